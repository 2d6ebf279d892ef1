/* SPDX-License-Identifier: MIT */
/* fault-tools: the fault injections of test/vm/test-faults.py.
 *
 *   fault-tools nobpf CMD [ARG...]
 *       runs CMD under a seccomp filter that fails every bpf(2) call with
 *       EPERM: a root process with every capability, BTF and the
 *       tracepoints present (what tierd's probe checks), whose BPF
 *       programs nevertheless cannot load or attach.
 *   fault-tools rename FILE OLD NEW
 *       writes FILE to stdout with the first occurrence of the string OLD
 *       replaced by NEW (the same length): a copy of the kernel's BTF in
 *       which a tracepoint's btf_trace_ typedef has another name, so that
 *       tracepoint looks absent to anything reading the copy. Exit 1 when
 *       OLD is not found. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int nobpf(char **cmd) {
        struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_bpf, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
                perror("fault-tools: seccomp");
                return 1;
        }
        execvp(cmd[0], cmd);
        fprintf(stderr, "fault-tools: cannot run %s: %s\n", cmd[0], strerror(errno));
        return 127;
}

static int rename_string(const char *path, const char *old, const char *new) {
        size_t n = 0, alloc = 1 << 20, ol = strlen(old);
        char *buf = malloc(alloc), *hit = NULL;
        FILE *f = fopen(path, "rb");
        size_t k;

        if (strlen(new) != ol || ol == 0) {
                fprintf(stderr, "fault-tools: OLD and NEW must have the same, non-zero length\n");
                return 2;
        }
        if (!f || !buf) {
                fprintf(stderr, "fault-tools: %s: %s\n", path, strerror(errno));
                return 1;
        }
        while ((k = fread(buf + n, 1, alloc - n, f)) > 0) {
                n += k;
                if (n == alloc) {
                        char *p = realloc(buf, alloc *= 2);

                        if (!p)
                                return 1;
                        buf = p;
                }
        }
        fclose(f);
        for (size_t i = 0; i + ol <= n; i++)
                if (memcmp(buf + i, old, ol) == 0) {
                        hit = buf + i;
                        break;
                }
        if (!hit) {
                fprintf(stderr, "fault-tools: '%s' is not in %s\n", old, path);
                return 1;
        }
        memcpy(hit, new, ol);
        return fwrite(buf, 1, n, stdout) == n && fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
        if (argc >= 3 && strcmp(argv[1], "nobpf") == 0)
                return nobpf(argv + 2);
        if (argc == 5 && strcmp(argv[1], "rename") == 0)
                return rename_string(argv[2], argv[3], argv[4]);
        fprintf(stderr, "usage: fault-tools nobpf CMD [ARG...] | fault-tools rename FILE OLD NEW\n");
        return 2;
}
