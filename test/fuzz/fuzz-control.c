/* SPDX-License-Identifier: MIT */
/* control_parse_request(): one request line from a client of the control
 * socket (at most CONTROL_MAX_REQUEST bytes, any client that may connect).
 * An accepted request names a known command; a refused one has a message,
 * which control_error_line() must turn into valid JSON. */
#include "fuzz.h"

#include <errno.h>

#include "control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *line = NULL, *error = NULL, *answer = NULL;
        ControlCommand cmd = _CONTROL_COMMAND_INVALID;
        int r;

        if (size > CONTROL_MAX_REQUEST)
                return 0;
        line = fuzz_strdup(data, size);
        if (!line)
                return 0;
        r = control_parse_request(line, &cmd, &error);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
        if (r == 0) {
                FUZZ_CHECK(cmd >= 0 && cmd < _CONTROL_COMMAND_MAX);
                FUZZ_CHECK(control_command_to_string(cmd));
                return 0;
        }
        if (r == -ENOMEM)
                return 0;
        FUZZ_CHECK(error);
        answer = control_error_line(error);
        FUZZ_CHECK(answer);
        {
                json_object *o = json_tokener_parse(answer);

                FUZZ_CHECK(o);
                json_object_put(o);
        }
        return 0;
}
