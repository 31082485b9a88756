#include "dabba_fuzzer.h"

// libFuzzer's entry point for executables with their own main. Weak: an ordinary build links without libFuzzer and
// the symbol is null; `make fuzz` links libFuzzer's runtime in whole, which defines it.
extern int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*body)(const uint8_t *data, size_t size))
    __attribute__((weak));

int dabba_run_fuzzer(int *argc, char ***argv, dabba_fuzz_body body) {
    if (!LLVMFuzzerRunDriver) {
        return -1;
    }
    return LLVMFuzzerRunDriver(argc, argv, body);
}
