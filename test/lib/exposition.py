# The Prometheus text format (0.0.4) as tierd's metrics endpoint writes it,
# parsed for the host tests: families with their HELP/TYPE, and samples
# keyed by (name, sorted label pairs).


def _unescape_label(s, i, line):
    """Reads a quoted label value starting after the opening quote at s[i];
    returns (value, index after the closing quote)."""
    out = []
    while True:
        if i >= len(s):
            raise ValueError(f'unterminated label value: {line}')
        c = s[i]
        if c == '"':
            return ''.join(out), i + 1
        if c == '\\':
            i += 1
            e = s[i] if i < len(s) else ''
            if e not in ('\\', '"', 'n'):
                raise ValueError(f'bad escape \\{e}: {line}')
            out.append('\n' if e == 'n' else e)
        else:
            out.append(c)
        i += 1


def parse(text):
    """Returns (families {name: {'type', 'help'}}, samples {(name, labels): value})."""
    families, samples = {}, {}
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith('# HELP '):
            name, _, help_ = line[7:].partition(' ')
            families.setdefault(name, {})['help'] = help_
            continue
        if line.startswith('# TYPE '):
            name, _, type_ = line[7:].partition(' ')
            families.setdefault(name, {})['type'] = type_
            continue
        if line.startswith('#'):
            continue
        i = 0
        while i < len(line) and line[i] not in '{ ':
            i += 1
        name, labels = line[:i], []
        if i < len(line) and line[i] == '{':
            i += 1
            while line[i] != '}':
                eq = line.index('=', i)
                key = line[i:eq]
                if line[eq + 1] != '"':
                    raise ValueError(f'unquoted label value: {line}')
                value, i = _unescape_label(line, eq + 2, line)
                labels.append((key, value))
                if line[i] == ',':
                    i += 1
            i += 1
        value = line[i:].strip()
        samples[(name, tuple(sorted(labels)))] = float(value)
    return families, samples
