/* tests/fault/fault_inject.h - programmatic control of tests/fault/fault_inject.c
 * for unit tests linked with it (and -Wl,--wrap=malloc,...: tests/CMakeLists.txt). */
#ifndef VMLEAK_TESTS_FAULT_INJECT_H
#define VMLEAK_TESTS_FAULT_INJECT_H

#include <stdbool.h>

void fault_inject_arm(unsigned long nth_from_now, bool persist_from_then);
unsigned long fault_inject_calls(void);

#endif
