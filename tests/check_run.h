/* tests/check_run.h - the common end of every Check unit test program: run the
 * suite (CK_VERBOSITY etc. from the environment) and turn failures into the
 * exit status ctest reads. */
#ifndef VMLEAK_TESTS_CHECK_RUN_H
#define VMLEAK_TESTS_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
