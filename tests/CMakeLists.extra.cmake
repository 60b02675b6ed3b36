# tests/CMakeLists.extra.cmake - the ledger's libFuzzer target and its short ctest run.
# Included by tests/CMakeLists.txt; leaves the normal (gcc) build untouched.

# -DVMLEAK_FUZZ=ON with clang: build fuzz_ledger in this build tree.
if(VMLEAK_FUZZ)
	if(CMAKE_C_COMPILER_ID MATCHES "Clang")
		add_executable(fuzz_ledger ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_ledger.c)
		target_compile_options(fuzz_ledger PRIVATE -fsanitize=fuzzer,address,undefined
			-fno-sanitize-recover=undefined -g -O1)
		target_link_options(fuzz_ledger PRIVATE -fsanitize=fuzzer,address,undefined)
		target_link_libraries(fuzz_ledger PRIVATE vmleak_decoder)
	else()
		message(WARNING "VMLEAK_FUZZ needs clang (-DCMAKE_C_COMPILER=clang); skipping fuzz_ledger")
	endif()
endif()

# When clang exists, the suite fuzzes the ledger for 10 s (scripts/fuzz.sh builds the
# target in its own build directory with clang, whatever compiler this tree uses).
find_program(VMLEAK_CLANG clang)
if(VMLEAK_CLANG)
	add_test(NAME fuzz.ledger_10s COMMAND ${PROJECT_SOURCE_DIR}/scripts/fuzz.sh 10)
	set_tests_properties(fuzz.ledger_10s PROPERTIES TIMEOUT 600
		ENVIRONMENT "VMLEAK_FUZZ_BUILD=${PROJECT_BINARY_DIR}/fuzz-build")
endif()
