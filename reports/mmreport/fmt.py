"""Text for sizes, rates, latencies and scenario titles."""


def size_text(n):
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n >> 10} KiB"
    return f"{n} B"


def rate_text(x):
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= div:
            return f"{x / div:.3g} {unit}"
    return f"{x:.3g}"


def ns_text(x):
    if x is None:
        return "–"
    for div, unit in ((1e6, "ms"), (1e3, "µs")):
        if x >= div:
            return f"{x / div:.3g} {unit}"
    return f"{x:.0f} ns"


def scenario_title(mode, rmw, size, write, procs):
    extra = f", {rmw}% lock/get/set/unlock" if rmw else ""
    return f"{mode} · {size_text(size)} · {write}% writes · {procs} procs{extra}"
