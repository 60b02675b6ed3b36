// tests/runtimes/leak_arraybuffer.js - an 8 MiB ArrayBuffer kept alive until
// process.exit(): its backing store (calloc -> mmap) is the program's.
globalThis.kept = new ArrayBuffer(8 * 1024 * 1024);
new Uint8Array(globalThis.kept)[0] = 1;
console.log("kept", globalThis.kept.byteLength);
process.exit(0);
