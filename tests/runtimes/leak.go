// tests/runtimes/leak.go - a Go program whose runtime grows its heap (clean),
// and with the argument "leak" maps 1 MiB with syscall.Mmap and keeps it.
package main

import (
	"fmt"
	"os"
	"syscall"
)

var kept [][]byte

//go:noinline
func leakMapping() {
	b, err := syscall.Mmap(-1, 0, 1<<20, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_ANON|syscall.MAP_PRIVATE) // LEAK_GO
	if err != nil {
		panic(err)
	}
	b[0] = 1
	kept = append(kept, b)
}

func main() {
	total := 0
	for i := 0; i < 200000; i++ {
		s := make([]byte, 1024)
		total += len(s)
	}
	if len(os.Args) > 1 && os.Args[1] == "leak" {
		leakMapping()
	}
	fmt.Println("go", total)
}
