"""Latency histograms: log-spaced buckets, their byte encoding, and percentiles read from them."""

from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, Mapping, cast

# Latency histogram: bucket 0 holds [0, 1) ms, bucket b >= 1 holds
# [10^((b-1)/20), 10^(b/20)) ms, so an estimate is within 12 % of the true value.
BUCKETS_PER_DECADE = 20


LAST_BUCKET = 255


def latency_bucket(total_ms: float) -> int:
    """The histogram bucket of one latency."""
    if total_ms < 1:
        return 0
    return min(LAST_BUCKET, math.floor(BUCKETS_PER_DECADE * math.log10(total_ms)) + 1)


def bucket_bounds(bucket: int) -> tuple[float, float]:
    """The [low, high) latency range of a bucket, in ms."""
    if bucket == 0:
        return 0.0, 1.0
    return 10 ** ((bucket - 1) / BUCKETS_PER_DECADE), 10 ** (bucket / BUCKETS_PER_DECADE)


def merge_histograms(histograms: Iterable[Mapping[int, int]]) -> dict[int, int]:
    """Add histograms up, e.g. the 24 hourly ones of a local day."""
    total: Counter[int] = Counter()
    for histogram in histograms:
        total.update(histogram)
    return dict(total)


def percentile_from_histogram(histogram: Mapping[int, int], q: float) -> float | None:
    """Estimate the q-quantile (0 <= q <= 1; 0.95 for p95) in ms, interpolating
    geometrically inside the bucket where it falls. None for an empty histogram."""
    if not 0 <= q <= 1:
        raise ValueError(f"quantile must be between 0 and 1, not {q}")
    count = sum(histogram.values())
    if count == 0:
        return None
    rank = q * count
    seen = 0
    for bucket in sorted(histogram):
        in_bucket = histogram[bucket]
        if in_bucket <= 0:
            continue
        if seen + in_bucket >= rank:
            low, high = bucket_bounds(bucket)
            fraction = (rank - seen) / in_bucket
            if low == 0:
                return high * fraction
            return cast(float, low * (high / low) ** fraction)
        seen += in_bucket
    return bucket_bounds(max(histogram))[1]  # only reached through float rounding


def _encode_histogram(histogram: Mapping[int, int]) -> bytes:
    # (bucket, count) byte pairs; a count above 255 takes several pairs of the same bucket.
    out = bytearray()
    for bucket in sorted(histogram):
        count = histogram[bucket]
        while count > 0:
            out += bytes((bucket, min(count, 255)))
            count -= 255
    return bytes(out)


def _decode_histogram(blob: bytes) -> dict[int, int]:
    histogram = dict(zip(blob[0::2], blob[1::2]))
    if len(histogram) * 2 == len(blob):  # no bucket over 255: the usual case
        return histogram
    histogram = {}
    for bucket, count in zip(blob[0::2], blob[1::2]):
        histogram[bucket] = histogram.get(bucket, 0) + count
    return histogram
