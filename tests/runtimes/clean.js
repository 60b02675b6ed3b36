// tests/runtimes/clean.js - JavaScript that leaks nothing: garbage enough for
// V8's heap to grow and collect. With "exit" it ends with process.exit(), which
// leaves V8's heap mapped (no isolate teardown): still the runtime's, not a leak.
let keep = [];
for (let i = 0; i < 200000; i++) {
  keep.push({ n: i, s: "x" + i });
  if (keep.length > 50000) keep = [];
}
console.log("clean", keep.length);
if (process.argv[2] === "exit") process.exit(0);
