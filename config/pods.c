/* SPDX-License-Identifier: MIT */
/* tierd.io/ pod annotations; see pods.h. Pure: no I/O, no allocation. */
#include "pods.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

int pod_field_of_key(const char *name) {
        PolicyKey k;
        int tier;

        if (policy_key_parse(name, &k, &tier) < 0)
                return -1;
        switch (k) {
        case KEY_CLASS: return 0;
        case KEY_MODE: return 1;
        case KEY_PROMOTE_RATE: return 2;
        case KEY_PROMOTE_BURST: return 3;
        case KEY_DEMOTE_RATE: return 4;
        case KEY_DEMOTE_BURST: return 5;
        case KEY_TIER_MAX: return POD_FIELD_TIER_MAX + tier;
        case KEY_TIER_LOW: return POD_FIELD_TIER_LOW + tier;
        default: return -1;
        }
}

const char *pod_field_name(int field, char *buf, size_t size) {
        static const char *const names[] = { "class", "mode", "promote.rate", "promote.burst", "demote.rate",
                                             "demote.burst" };

        if (field >= 0 && field < POD_FIELD_TIER_MAX)
                snprintf(buf, size, "%s", names[field]);
        else if (field >= POD_FIELD_TIER_MAX && field < POD_FIELD_TIER_LOW)
                snprintf(buf, size, "tier%d.max", field - POD_FIELD_TIER_MAX);
        else if (field >= POD_FIELD_TIER_LOW && field < POD_FIELDS)
                snprintf(buf, size, "tier%d.low", field - POD_FIELD_TIER_LOW);
        else
                snprintf(buf, size, "?");
        return buf;
}

bool pod_dns_label_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n >= POD_CONTAINER_MAX || s[0] == '-' || s[n - 1] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
                        return false;
        return true;
}

int pod_annotation_name_parse(const char *name, PodAnnotation *ret, const char **ret_why) {
        const char *rest, *dot;
        size_t keylen;

        *ret = (PodAnnotation) { 0 };
        if (strncmp(name, POD_ANNOTATION_PREFIX, strlen(POD_ANNOTATION_PREFIX)) != 0)
                return -ENOENT;
        rest = name + strlen(POD_ANNOTATION_PREFIX);
        if (strlen(rest) < sizeof(ret->key) && pod_field_of_key(rest) >= 0) {
                snprintf(ret->key, sizeof(ret->key), "%s", rest);
                return 0;
        }
        dot = strrchr(rest, '.');
        keylen = dot ? (size_t) (dot - rest) : 0;
        if (!dot || keylen == 0 || keylen >= sizeof(ret->key)) {
                *ret_why = "names no tierd policy key (tierd.io/KEY or tierd.io/KEY.CONTAINER)";
                return -EINVAL;
        }
        memcpy(ret->key, rest, keylen);
        ret->key[keylen] = '\0';
        if (pod_field_of_key(ret->key) < 0) {
                *ret = (PodAnnotation) { 0 };
                *ret_why = "names no tierd policy key (tierd.io/KEY or tierd.io/KEY.CONTAINER)";
                return -EINVAL;
        }
        if (!pod_dns_label_valid(dot + 1)) {
                *ret = (PodAnnotation) { 0 };
                *ret_why = "names a container that is not a DNS label ([a-z0-9-], at most 63)";
                return -EINVAL;
        }
        snprintf(ret->container, sizeof(ret->container), "%s", dot + 1);
        return 0;
}

int pod_annotation_parse(const char *name, const char *value, PodAnnotation *ret, const char **ret_why) {
        PolicySpec scratch = { 0 };
        int r;

        r = pod_annotation_name_parse(name, ret, ret_why);
        if (r < 0)
                return r;
        r = policy_spec_set(&scratch, ret->key, value, ret_why);
        if (r == -ENOKEY) /* cannot happen: the key parsed above */
                r = -EINVAL;
        return r;
}
