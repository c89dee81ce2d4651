/*
 * glibc compatibility for the Lambda build (lambda/package.sh defines KMESH_LAMBDA_COMPAT).
 * The build host is Debian 12 (glibc 2.36); Lambda's provided.al2023 has glibc 2.34:
 *  - FoundationEssentials references hypot/hypotf, which Debian's libm exports at GLIBC_2.35:
 *    define them here, calling the GLIBC_2.2.5 versions every x86_64 glibc has.
 *  - the static libstdc++ references arc4random@GLIBC_2.36: provide it on getrandom(2).
 * The everyday build compiles this file to (almost) nothing.
 */
#include "CCompat.h"

#if defined(KMESH_LAMBDA_COMPAT) && defined(__x86_64__) && defined(__linux__)
#include <stdint.h>
#include <stddef.h>
#include <errno.h>
#include <sys/random.h>

double kmesh_hypot_glibc225(double, double);
float kmesh_hypotf_glibc225(float, float);
__asm__(".symver kmesh_hypot_glibc225, hypot@GLIBC_2.2.5");
__asm__(".symver kmesh_hypotf_glibc225, hypotf@GLIBC_2.2.5");

double hypot(double x, double y) { return kmesh_hypot_glibc225(x, y); }
float hypotf(float x, float y) { return kmesh_hypotf_glibc225(x, y); }

static void fill_random(void *buffer, size_t length) {
    unsigned char *p = buffer;
    while (length > 0) {
        ssize_t n = getrandom(p, length, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            __builtin_trap();  /* no entropy source at all: nothing safe to return */
        }
        p += n;
        length -= (size_t)n;
    }
}

uint32_t arc4random(void) {
    uint32_t value;
    fill_random(&value, sizeof value);
    return value;
}

void arc4random_buf(void *buffer, size_t length) { fill_random(buffer, length); }

uint32_t arc4random_uniform(uint32_t upper_bound) {
    if (upper_bound < 2) return 0;
    uint32_t min = -upper_bound % upper_bound;  /* rejection sampling: no modulo bias */
    uint32_t r;
    do { r = arc4random(); } while (r < min);
    return r % upper_bound;
}

int kmesh_compat_enabled(void) { return 1; }
#else
int kmesh_compat_enabled(void) { return 0; }
#endif
