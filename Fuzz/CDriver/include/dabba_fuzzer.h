#ifndef DABBA_FUZZER_H
#define DABBA_FUZZER_H

#include <stddef.h>
#include <stdint.h>

/// The body libFuzzer calls with each input.
typedef int (*dabba_fuzz_body)(const uint8_t *data, size_t size);

/// Runs libFuzzer's driver (its command-line options, corpus handling, crash reports) with `body`, when the
/// executable was linked with libFuzzer (`make fuzz`); returns -1 at once otherwise.
int dabba_run_fuzzer(int *argc, char ***argv, dabba_fuzz_body body);

#endif
