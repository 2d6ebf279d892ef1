# The pass flags of `tierd scan --json` (and test/helpers/scan-order),
# read back for the scanner VM tests: each tenant object and history entry
# has "pass": [] for a fragment of a pass, or some of "begin", "end",
# "exact", "byte_only" (base/heat.h, TenantHeat.pass).

FLAGS = {'begin', 'end', 'exact', 'byte_only'}


def history_of(j, cgroup):
    """[(period, set(pass), tracked_bytes)] of tenant CGROUP in the
    history of a `tierd scan --json` document."""
    out = []
    for h in j.get('history', []):
        for x in h['tenants']:
            if x['cgroup'] == cgroup:
                out.append((h['period'], set(x.get('pass', ['missing'])), x['tracked_bytes']))
    return out


def pass_runs(seq):
    """The passes in SEQ ([(period, set(pass), tracked_bytes)], in period
    order, starting after an unseen arming period): ([(begin, end, exact)],
    still_open, errors). begin is None for a pass begun before SEQ's first
    period. errors: what breaks the rules -- an unknown flag, "exact"
    without "end", "begin" while a pass is open, "end" with none open,
    bytes reported outside a pass."""
    runs, errors = [], []
    state, begin = 'unknown', None  # period 0 may have left a pass open or not
    for p, f, tracked in seq:
        if f - FLAGS:
            errors.append(f'period {p}: unknown flags {sorted(f - FLAGS)}')
        if 'exact' in f and 'end' not in f:
            errors.append(f'period {p}: "exact" without "end"')
        if 'begin' in f:
            if state == 'open':
                errors.append(f'period {p}: "begin" while the pass begun in {begin} is open')
            state, begin = 'open', p
        elif state == 'closed' and tracked > 0:
            errors.append(f'period {p}: {tracked} bytes reported outside a pass')
        if 'end' in f:
            if state == 'closed':
                errors.append(f'period {p}: "end" without a pass open')
            runs.append((begin if state == 'open' else None, p, 'exact' in f))
            state, begin = 'closed', None
    return runs, state == 'open', errors


def describe(seq):
    """One line: period:flags for each period."""
    return ' '.join(f'{p}:{"+".join(sorted(f)) or "-"}' for p, f, _ in seq)
