/* Unit tests for assets.c: content versions, the file version cache, placeholder
 * replacement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "assets.h"

static void test_version(void **state) {
    char a[ASSETS_VERSION_LEN + 1], b[ASSETS_VERSION_LEN + 1];
    assets_version("hello", 5, a);
    assets_version("hello", 5, b);
    assert_int_equal(strlen(a), ASSETS_VERSION_LEN);
    assert_string_equal(a, b);
    assert_int_equal(strspn(a, "0123456789abcdef"), ASSETS_VERSION_LEN);
    assets_version("hellp", 5, b);
    assert_string_not_equal(a, b);
    assets_version("", 0, b);
    assert_int_equal(strlen(b), ASSETS_VERSION_LEN);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A changed file gets a new version even within the same second of modification time
 * (the size differs); a missing file is -1 with an empty version. */
static void test_file_version(void **state) {
    char dir[] = "/tmp/parley-assets-XXXXXX", path[64], v1[ASSETS_VERSION_LEN + 1],
         v2[ASSETS_VERSION_LEN + 1], want[ASSETS_VERSION_LEN + 1];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/w.js", dir);
    write_file(path, "one");
    assert_int_equal(assets_file_version(path, v1), 0);
    assets_version("one", 3, want);
    assert_string_equal(v1, want);
    assert_int_equal(assets_file_version(path, v2), 0); /* from the cache */
    assert_string_equal(v1, v2);
    write_file(path, "two!");
    assert_int_equal(assets_file_version(path, v2), 0);
    assets_version("two!", 4, want);
    assert_string_equal(v2, want);
    unlink(path);
    assert_int_equal(assets_file_version(path, v2), -1);
    assert_string_equal(v2, "");
    assert_int_equal(assets_file_version(dir, v2), -1); /* a directory */
    rmdir(dir);
}

static void test_replace(void **state) {
    size_t n = 0;
    const char *src = "a @V@ b @V@@V@ c";
    char *out = assets_replace(src, strlen(src), "@V@", "0123", &n);
    assert_non_null(out);
    assert_string_equal(out, "a 0123 b 01230123 c");
    assert_int_equal(n, strlen(out));
    free(out);
    out = assets_replace(src, strlen(src), "@V@", "", &n);
    assert_string_equal(out, "a  b  c");
    free(out);
    assert_null(assets_replace(src, strlen(src), "@W@", "x", &n));
    assert_null(assets_replace(src, strlen(src), "", "x", &n));
    assert_null(assets_replace("", 0, "@V@", "x", &n));
    /* only len bytes are looked at, and a needle at the very end is found */
    out = assets_replace("xx@V@yy", 5, "@V@", "1", &n);
    assert_non_null(out);
    assert_int_equal(n, 3);
    assert_string_equal(out, "xx1");
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_file_version),
        cmocka_unit_test(test_replace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
