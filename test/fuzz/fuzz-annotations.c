/* SPDX-License-Identifier: MIT */
/* annotations_parse(): the xattr names of a cgroup directory and their
 * values, which the owner of a delegated subtree writes (user.tierd.*).
 * Input: two bytes of list length L (little endian, taken modulo the
 * input), L bytes of the flistxattr() list, then the values that the
 * getter hands out in turn, separated by 0xfe; a value of one byte 0xfd
 * stands for -ERANGE (too long), 0xfc for -ENODATA (removed meanwhile),
 * 0xfb for -EIO. The result stays within its arrays, every string is
 * terminated, and trailing newlines and spaces are gone from values; the
 * pods' names (trusted.tierd.k8s.*) are read into fields of their size. */
#include "fuzz.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/types.h>

#include "annotations.h"

typedef struct Pool {
        const uint8_t *p, *end;
        unsigned calls;
        bool nul;       /* a value handed out had a NUL inside */
} Pool;

static ssize_t get(const char *attr, char *buf, size_t size, void *userdata) {
        Pool *pool = userdata;
        const uint8_t *sep;
        size_t len;

        FUZZ_CHECK(attr);
        if (strncmp(attr, ANNOTATION_K8S_PREFIX, strlen(ANNOTATION_K8S_PREFIX)) == 0)
                FUZZ_CHECK(size == (strcmp(attr, ANNOTATION_K8S_PREFIX "pod") == 0 ? K8S_NAME_MAX : K8S_LABEL_MAX) - 1);
        else
                FUZZ_CHECK(size == ANNOTATION_VALUE_MAX - 1);
        pool->calls++;
        if (pool->p >= pool->end)
                return -ENODATA;
        sep = memchr(pool->p, 0xfe, (size_t) (pool->end - pool->p));
        len = (size_t) ((sep ? sep : pool->end) - pool->p);
        if (len == 1 && pool->p[0] >= 0xfb && pool->p[0] <= 0xfd) {
                int r = pool->p[0] == 0xfd ? -ERANGE : pool->p[0] == 0xfc ? -ENODATA : -EIO;

                pool->p = sep ? sep + 1 : pool->end;
                return r;
        }
        if (len > size) {
                pool->p = sep ? sep + 1 : pool->end;
                return -ERANGE; /* what fgetxattr says when the buffer is too small */
        }
        memcpy(buf, pool->p, len);
        if (memchr(buf, '\0', len))
                pool->nul = true;
        pool->p = sep ? sep + 1 : pool->end;
        return (ssize_t) len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *list = NULL;
        Annotations a = { 0 };
        Pool pool;
        size_t l;
        int r;

        if (size < 2)
                return 0;
        l = ((size_t) data[0] | (size_t) data[1] << 8) % (size - 1);
        /* the list in a block of its own size: a read past it is caught */
        list = malloc(l ? l : 1);
        if (!list)
                return 0;
        memcpy(list, data + 2, l);
        pool = (Pool) { .p = data + 2 + l, .end = data + size };

        r = annotations_parse(list, l, get, &pool, &a);
        FUZZ_CHECK(r == 0 || r == -EIO);
        FUZZ_CHECK(a.n >= 0 && a.n <= ANNOTATIONS_MAX && a.dropped >= 0);
        FUZZ_CHECK(pool.calls <= (unsigned) a.n + (unsigned) (r < 0) + (unsigned) l);
        for (int i = 0; i < a.n; i++) {
                const Annotation *x = &a.items[i];
                size_t kl = strnlen(x->key, sizeof(x->key)), vl = strnlen(x->value, sizeof(x->value));

                FUZZ_CHECK(kl < sizeof(x->key) && vl < sizeof(x->value));
                /* (a value with a NUL inside reads as its part before the NUL,
                 * trimmed only at the end of all its bytes) */
                FUZZ_CHECK(vl == 0 || pool.nul || (x->value[vl - 1] != '\n' && x->value[vl - 1] != ' '));
                FUZZ_CHECK(!x->truncated || kl == sizeof(x->key) - 1 || vl == 0);
                FUZZ_CHECK(x->pod ? annotations_get_pod(&a, x->key) != NULL : annotations_get(&a, x->key, x->trusted) != NULL);
                FUZZ_CHECK(!x->pod || x->trusted);
        }
        FUZZ_CHECK(strnlen(a.k8s.pod, sizeof(a.k8s.pod)) < sizeof(a.k8s.pod));
        FUZZ_CHECK(strnlen(a.k8s.namespace_, sizeof(a.k8s.namespace_)) < sizeof(a.k8s.namespace_));
        FUZZ_CHECK(strnlen(a.k8s.container, sizeof(a.k8s.container)) < sizeof(a.k8s.container));
        return 0;
}
