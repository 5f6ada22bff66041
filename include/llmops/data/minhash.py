"""Vectorized MinHash signatures and LSH banding for near-duplicate detection.

Everything here works on many documents at once with numpy; nothing loops over documents or permutations in Python.

- **Shingles** (:func:`shingle_hashes`): word ``k``-grams of the normalised text (lower case, ASCII punctuation and
  whitespace runs become one separator). Each shingle is hashed straight from the UTF-8 bytes of the batch with a
  polynomial hash computed from prefix sums (``H(s, e) = (Q[e] - Q[s]) * B**s`` with ``Q`` the cumulative sum of
  ``byte_j * B**-j`` mod 2**64), so no token strings are ever created. :func:`shingle_hashes_scalar` is the
  per-document pure-Python definition the vectorized code is tested against.
- **Signatures** (:func:`signatures`): datasketch's ``affine32`` scheme, ``min over shingles of (a * fmix32(h) + b)
  mod 2**32`` for all permutations at once, in cache-sized blocks of whole documents, reduced per document with
  ``np.minimum.reduceat`` over the flat shingle array. The permutations (:func:`permutations`) are drawn exactly as
  datasketch draws them, so ``datasketch.MinHash(num_perm, seed, hashfunc=int, permutations=(a, b),
  scheme="affine32")`` fed with the same shingle values gives identical signatures.
- **LSH** (:func:`band_hashes`, :func:`candidate_pairs`): each band of ``rows_per_band`` signature rows is hashed to
  one uint64; documents sharing a band hash in any band are candidates, found by sorting each band column.
- **Verification and clusters** (:func:`verify_pairs`, :func:`connected_components`): candidates are kept when their
  estimated Jaccard similarity (share of equal signature rows) reaches the threshold; clusters are the connected
  components, labelled by their smallest row index, which is also the deterministic representative.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from llmops.config import DedupConfig

U64 = np.uint64
U32 = np.uint32
MAX_HASH32 = np.uint32(0xFFFFFFFF)
_MERSENNE = (1 << 61) - 1  # datasketch's bound for permutation draws (kept for parity of the random stream)
_MASK64 = (1 << 64) - 1
# Polynomial base of the shingle hash (odd, so it is invertible mod 2**64) and its inverse.
_BASE = 0x100000001B3
_BASE_INV = pow(_BASE, -1, 1 << 64)
_WORD_BASE = 0xC2B2AE3D27D4EB4F  # combines the word hashes of a shingle
_BAND_PRIME = np.uint64(0x9E3779B97F4A7C15)
# Bytes treated as separators: ASCII whitespace and ASCII punctuation.
_SEPARATOR_BYTES = np.zeros(256, dtype=bool)
for _ch in b" \t\n\r\x0b\x0c!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~":
    _SEPARATOR_BYTES[_ch] = True
_SEPARATOR_CHARS = frozenset(chr(c) for c in range(128) if _SEPARATOR_BYTES[c])
_BLOCK_SHINGLES = 4096  # shingles per block of the signature kernel (x num_perm uint32: 2 MiB at 128)
_VERIFY_CHUNK = 1 << 16
_HASH_SLICE_BYTES = 1 << 17


@dataclass(frozen=True)
class MinHashParams:
    """Parameters of signatures and banding (see :class:`llmops.config.DedupConfig`; the defaults are its defaults,
    with the banding it derives)."""

    num_perm: int = 128
    bands: int = 25
    rows_per_band: int = 5
    shingle_size: int = 2
    threshold: float = 0.6
    seed: int = 1
    max_bucket_pairs: int = 32

    def __post_init__(self) -> None:
        if self.bands * self.rows_per_band > self.num_perm:
            raise ValueError(f"bands * rows_per_band must be <= num_perm, got {self.bands}x{self.rows_per_band}")

    @classmethod
    def from_config(cls, cfg: DedupConfig, threshold: float | None = None) -> MinHashParams:
        """Parameters from the ``data.dedup`` section (``threshold`` overrides its ``threshold``; null ``bands`` and
        ``rows_per_band`` are derived from its thresholds, :attr:`llmops.config.DedupConfig.banding`)."""
        bands, rows_per_band = cfg.banding
        return cls(
            num_perm=cfg.num_perm,
            bands=bands,
            rows_per_band=rows_per_band,
            shingle_size=cfg.shingle_size,
            threshold=cfg.threshold if threshold is None else threshold,
            seed=cfg.seed,
            max_bucket_pairs=cfg.max_bucket_pairs,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (for manifests and MLflow params)."""
        return {
            "scheme": "affine32",
            "num_perm": self.num_perm,
            "bands": self.bands,
            "rows_per_band": self.rows_per_band,
            "shingle_size": self.shingle_size,
            "shingle_unit": "word",
            "threshold": self.threshold,
            "seed": self.seed,
        }


# ---------------------------------------------------------------------------------------------------------------
# Hash helpers
# ---------------------------------------------------------------------------------------------------------------
def fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, element-wise (the pre-mix datasketch applies in its affine schemes).

    Args:
        values: uint32 array.

    Returns:
        A new uint32 array.
    """
    h = values.astype(U32, copy=True)
    h ^= h >> U32(16)
    h *= U32(0x85EBCA6B)
    h ^= h >> U32(13)
    h *= U32(0xC2B2AE35)
    h ^= h >> U32(16)
    return h


def fmix64(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer, element-wise.

    Args:
        values: uint64 array.

    Returns:
        A new uint64 array.
    """
    h = values.astype(U64, copy=True)
    h ^= h >> U64(33)
    h *= U64(0xFF51AFD7ED558CCD)
    h ^= h >> U64(33)
    h *= U64(0xC4CEB9FE1A85EC53)
    h ^= h >> U64(33)
    return h


def _fold32(h64: np.ndarray) -> np.ndarray:
    """64-bit shingle hashes to the 32-bit values the affine32 scheme takes."""
    mixed = fmix64(h64)
    return ((mixed >> U64(32)) ^ (mixed & U64(0xFFFFFFFF))).astype(U32)


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a, b)`` parameters of the affine permutations, drawn exactly as ``datasketch.MinHash`` draws them.

    Args:
        num_perm: number of permutations.
        seed: random seed.

    Returns:
        Two uint32 arrays of length ``num_perm``; every ``a`` is odd, so each map is a bijection of [0, 2**32).
    """
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=U32) * U32(2) + U32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=U32)
    return a, b


# ---------------------------------------------------------------------------------------------------------------
# Shingles
# ---------------------------------------------------------------------------------------------------------------
def _words_scalar(text: str) -> list[bytes]:
    lowered = text.lower()
    cleaned = "".join(" " if ch in _SEPARATOR_CHARS else ch for ch in lowered)
    return [w.encode("utf-8") for w in cleaned.split(" ") if w]


def shingle_hashes_scalar(text: str | None, k: int) -> list[int]:
    """Per-document reference definition of the shingle hashes (pure Python; for tests and small inputs).

    The text is lower-cased; ASCII whitespace and punctuation separate words. Each word ``k``-gram (the whole text
    when it has fewer than ``k`` words) is hashed as the polynomial ``sum(byte_j * B**(j - s))`` mod 2**64 over its
    words joined by one space, then mixed (``fmix64``) and folded to 32 bits.

    Args:
        text: the document; ``None`` or a text without words has no shingles.
        k: words per shingle.

    Returns:
        One 32-bit value per shingle, in text order (duplicates kept).
    """
    words = _words_scalar(text or "")
    if not words:
        return []
    hashes = []
    for word in words:
        acc, power = 0, 1
        for byte in word:
            acc = (acc + byte * power) & _MASK64
            power = (power * _BASE_INV) & _MASK64
        hashes.append(acc)
    grams = [hashes] if len(hashes) < k else [hashes[i : i + k] for i in range(len(hashes) - k + 1)]
    out = []
    for gram in grams:
        acc = 0
        for value in gram:
            acc = (acc * _WORD_BASE + value) & _MASK64
        out.append(acc)
    return [int(v) for v in _fold32(np.array(out, dtype=U64))]


def _utf8_buffers(texts: Any) -> tuple[np.ndarray, np.ndarray]:
    """Lower-cased UTF-8 bytes of a batch and the byte offset of each document (``len + 1`` offsets)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = texts if isinstance(texts, pa.Array | pa.ChunkedArray) else pa.array(list(texts), type=pa.string())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks else pa.array([], type=pa.string())
    array = pc.utf8_lower(array.cast(pa.large_string()).fill_null(""))
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    data_buffer = array.buffers()[2]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, dtype=np.uint8)
    start, end = int(offsets[0]), int(offsets[-1])
    return data[start:end], offsets - start


def shingle_hashes(texts: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of a batch of documents, vectorized over the whole batch.

    Same values as :func:`shingle_hashes_scalar` for every document. Works through the batch in slices of about
    :data:`CHUNK_BYTES` bytes of text, so memory stays bounded for any batch size.

    Args:
        texts: a sequence of strings (or ``None``), or a pyarrow string array.
        k: words per shingle.

    Returns:
        ``(values, offsets)``: a flat uint32 array of all shingles and ``len(texts) + 1`` int64 offsets; document
        ``i`` owns ``values[offsets[i]:offsets[i + 1]]``.
    """
    if k < 1:
        raise ValueError(f"shingle size must be >= 1, got {k}")
    data, doc_offsets = _utf8_buffers(texts)
    n_docs = len(doc_offsets) - 1
    cuts = np.searchsorted(doc_offsets, np.arange(CHUNK_BYTES, int(doc_offsets[-1]), CHUNK_BYTES), side="right")
    bounds = np.unique(np.concatenate(([0], cuts, [n_docs]))).astype(np.int64)
    _pow_table(_BASE, CHUNK_BYTES + 1)  # build the shared tables before any thread reads them
    _pow_table(_BASE_INV, CHUNK_BYTES + 1)

    def run(pair: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = pair
        lo_byte, hi_byte = int(doc_offsets[lo]), int(doc_offsets[hi])
        return _shingle_chunk(data[lo_byte:hi_byte], doc_offsets[lo : hi + 1] - lo_byte, k)

    results = _map_in_threads(run, [(int(lo), int(hi)) for lo, hi in itertools.pairwise(bounds)])
    parts = [values for values, _ in results]
    counts = [per_doc for _, per_doc in results]
    offsets = np.zeros(n_docs + 1, dtype=np.int64)
    if counts:
        np.cumsum(np.concatenate(counts), out=offsets[1:])
    values = np.concatenate(parts) if parts else np.zeros(0, dtype=U32)
    return values, offsets


CHUNK_BYTES = 1 << 18  # slices of the batch: their temporaries stay in cache


def _shingle_chunk(data: np.ndarray, doc_offsets: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Shingle values and per-document counts of one slice of the batch (see :func:`shingle_hashes`)."""
    n_docs = len(doc_offsets) - 1
    n = data.size
    if n == 0:
        return np.zeros(0, dtype=U32), np.zeros(n_docs, dtype=np.int64)

    # Word boundaries: a word is a maximal run of non-separator bytes inside one document.
    sep = np.take(_SEPARATOR_BYTES, data)
    boundary_before = np.empty(n, dtype=bool)
    boundary_before[0] = True
    boundary_before[1:] = sep[:-1]
    boundary_after = np.empty(n, dtype=bool)
    boundary_after[-1] = True
    boundary_after[:-1] = sep[1:]
    inner = doc_offsets[1:-1]
    inner = inner[(inner > 0) & (inner < n)]
    boundary_before[inner] = True
    boundary_after[inner - 1] = True
    word = ~sep
    starts = np.flatnonzero(word & boundary_before)
    ends = np.flatnonzero(word & boundary_after) + 1  # exclusive

    # Word hash: sum(byte_j * B**(j - start)) mod 2**64, from one prefix sum over the slice (numpy wraps mod 2**64).
    prefix = np.zeros(n + 1, dtype=U64)
    np.cumsum(data.astype(U64) * _pow_table(_BASE_INV, n), out=prefix[1:])
    word_hash = (prefix[ends] - prefix[starts]) * _pow_table(_BASE, n)[starts]

    # Shingle i of a document with w >= k words combines words i .. i + k - 1; a shorter document has one shingle.
    word_first = np.searchsorted(starts, doc_offsets, side="left").astype(np.int64)
    words_per_doc = np.diff(word_first)
    per_doc = np.where(words_per_doc >= k, words_per_doc - k + 1, np.minimum(words_per_doc, 1))
    first_shingle = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(per_doc, out=first_shingle[1:])
    # Windows of k consecutive words over the whole slice (h = h * C + next word hash), then each document's own.
    n_words = word_hash.size
    windows = word_hash.copy()
    for t in range(1, min(k, n_words)):
        windows[: n_words - t] = windows[: n_words - t] * U64(_WORD_BASE) + word_hash[t:]
    shingle_doc = np.repeat(np.arange(n_docs), per_doc)
    first_word = word_first[:-1][shingle_doc] + (
        np.arange(int(first_shingle[-1]), dtype=np.int64) - first_shingle[:-1][shingle_doc]
    )
    h = windows[first_word]
    short = np.flatnonzero((words_per_doc < k) & (words_per_doc > 0))
    if short.size:  # documents with fewer than k words: one shingle over all their words
        acc = np.zeros(short.size, dtype=U64)
        for t in range(k - 1):
            present = t < words_per_doc[short]
            index = np.where(present, word_first[short] + t, 0)
            acc = np.where(present, acc * U64(_WORD_BASE) + word_hash[index], acc)
        h[first_shingle[short]] = acc
    return _fold32(h), per_doc


_POW_CACHE: dict[int, np.ndarray] = {}


def _pow_table(base: int, n: int) -> np.ndarray:
    """``base**j mod 2**64`` for ``j < n`` (cached and grown by doubling)."""
    table = _POW_CACHE.get(base)
    if table is None or table.size < n:
        size = max(n, CHUNK_BYTES + (1 << 16), 0 if table is None else table.size * 2)
        table = np.empty(size, dtype=U64)
        table[0] = 1
        step = base
        filled = 1
        while filled < size:  # doubling: table[filled:2*filled] = table[:filled] * base**filled
            count = min(filled, size - filled)
            np.multiply(table[:count], U64(step), out=table[filled : filled + count])
            filled += count
            step = (step * step) & _MASK64
        _POW_CACHE[base] = table
    return table[:n]


def _workers(tasks: int) -> int:
    """Threads for the numpy kernels (they release the GIL): ``LLMOPS_DATA_THREADS`` or the CPU count, at most 8."""
    configured = os.environ.get("LLMOPS_DATA_THREADS")
    wanted = int(configured) if configured else (os.cpu_count() or 1)
    return max(1, min(wanted, 8, tasks))


def _map_in_threads(fn: Any, items: list[Any], chunked: bool = True) -> list[Any]:
    """``[fn(item) for item in items]``, on a few threads; results in input order (deterministic)."""
    workers = _workers(len(items))
    if workers == 1:
        return [fn(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    if not chunked:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(fn, items))
    size = -(-len(items) // workers)
    groups = [items[i : i + size] for i in range(0, len(items), size)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(lambda group: [fn(item) for item in group], groups))
    return [result for group in done for result in group]


# ---------------------------------------------------------------------------------------------------------------
# Signatures
# ---------------------------------------------------------------------------------------------------------------
def signatures(values: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """MinHash signatures of many documents from their flat shingle values.

    Args:
        values: flat uint32 shingle values (from :func:`shingle_hashes`).
        offsets: ``n_docs + 1`` offsets into ``values``.
        a: permutation multipliers (odd uint32), from :func:`permutations`.
        b: permutation offsets (uint32).

    Returns:
        ``(n_docs, num_perm)`` uint32; a document without shingles gets ``0xFFFFFFFF`` everywhere (datasketch's
        empty value).
    """
    n_docs = len(offsets) - 1
    num_perm = len(a)
    out = np.full((n_docs, num_perm), MAX_HASH32, dtype=U32)
    counts = np.diff(offsets)
    nonempty = np.flatnonzero(counts > 0)
    if nonempty.size == 0:
        return out
    mixed = fmix32(values)
    a_col = a.astype(U32)[:, None]
    b_col = b.astype(U32)[:, None]
    # Permutations along the first axis: each permutation's row of a block is contiguous for reduceat.
    block = _BLOCK_SHINGLES
    cum = offsets[nonempty + 1]
    cuts = np.searchsorted(cum, np.arange(block, int(cum[-1]), block), side="left")
    bounds = np.unique(np.concatenate(([0], cuts + 1, [nonempty.size])))
    bounds = bounds[bounds <= nonempty.size]
    pairs = [(int(lo), int(hi)) for lo, hi in itertools.pairwise(bounds)]

    def run(group: list[tuple[int, int]]) -> None:
        buffer = np.empty((num_perm, block), dtype=U32)  # one per thread
        for lo, hi in group:
            docs = nonempty[lo:hi]
            first, last = int(offsets[docs[0]]), int(offsets[docs[-1] + 1])
            width = last - first
            x = buffer[:, :width] if width <= block else np.empty((num_perm, width), dtype=U32)
            np.multiply(a_col, mixed[None, first:last], out=x)
            np.add(x, b_col, out=x)
            local = (offsets[docs] - first).astype(np.intp)
            out[docs] = np.minimum.reduceat(x, local, axis=1).T  # disjoint rows per group

    workers = _workers(len(pairs))
    size = -(-len(pairs) // workers) if pairs else 1
    _map_in_threads(run, [pairs[i : i + size] for i in range(0, len(pairs), size)], chunked=False)
    return out


def empty_mask(sigs: np.ndarray) -> np.ndarray:
    """Documents whose signature is the empty value (no shingles)."""
    return np.asarray((sigs == MAX_HASH32).all(axis=1))


# ---------------------------------------------------------------------------------------------------------------
# LSH
# ---------------------------------------------------------------------------------------------------------------
def band_hashes(sigs: np.ndarray, bands: int, rows_per_band: int) -> np.ndarray:
    """One uint64 hash per band of each signature.

    Args:
        sigs: ``(n, num_perm)`` uint32 signatures.
        bands: number of bands.
        rows_per_band: signature rows per band (``bands * rows_per_band <= num_perm``).

    Returns:
        ``(n, bands)`` uint64.
    """
    n = sigs.shape[0]
    if bands * rows_per_band > sigs.shape[1]:
        raise ValueError(f"{bands} bands of {rows_per_band} rows do not fit {sigs.shape[1]} permutations")
    cube = sigs[:, : bands * rows_per_band].reshape(n, bands, rows_per_band).astype(U64)
    h = np.broadcast_to(fmix64(np.arange(1, bands + 1, dtype=U64)), (n, bands)).copy()
    for r in range(rows_per_band):
        h ^= cube[:, :, r]
        h *= _BAND_PRIME
        h ^= h >> U64(29)
    return fmix64(h)


def candidate_pairs(bands: np.ndarray, max_bucket_pairs: int = 32) -> np.ndarray:
    """Pairs of documents that share at least one band hash.

    Within a bucket (same hash in the same band) every pair is a candidate when the bucket has at most
    ``max_bucket_pairs + 1`` members; a larger bucket links each member to the ``max_bucket_pairs`` members after it
    (in row order) and to the bucket's first member, which keeps it connected without a quadratic number of pairs.

    Args:
        bands: ``(n, n_bands)`` band hashes; row ``i`` is document ``i``.
        max_bucket_pairs: how many following members each member is paired with.

    Returns:
        ``(m, 2)`` int64 array of unique pairs ``(i, j)`` with ``i < j``, sorted.
    """
    n, n_bands = bands.shape
    found: list[np.ndarray] = []
    for band in range(n_bands):
        keys = bands[:, band]
        order = np.argsort(keys, kind="stable")  # stable: members of a bucket stay in row order
        sorted_keys = keys[order]
        same = sorted_keys[1:] == sorted_keys[:-1]
        if not same.any():
            continue
        run_start = np.flatnonzero(np.concatenate(([True], ~same)))
        run_id = np.cumsum(np.concatenate(([True], ~same))) - 1
        head = order[run_start[run_id]]
        for d in range(1, max_bucket_pairs + 1):
            if d >= n:
                break
            match = sorted_keys[d:] == sorted_keys[:-d]
            if not match.any():
                break
            idx = np.flatnonzero(match)
            found.append(np.stack((order[idx], order[idx + d]), axis=1))
        # star links to the head for members of large buckets (no-ops for small ones after np.unique)
        members = np.flatnonzero(np.concatenate(([False], same)))
        found.append(np.stack((head[members], order[members]), axis=1))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(found).astype(np.int64)
    pairs = np.sort(pairs, axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    key = pairs[:, 0] * np.int64(n) + pairs[:, 1]
    key = np.unique(key)
    return np.stack((key // n, key % n), axis=1)


def estimated_jaccard(sigs_a: np.ndarray, sigs_b: np.ndarray) -> np.ndarray:
    """Share of equal signature rows, row by row (the MinHash estimate of Jaccard similarity).

    Args:
        sigs_a: ``(m, num_perm)`` signatures.
        sigs_b: ``(m, num_perm)`` signatures.

    Returns:
        ``(m,)`` float64 in [0, 1].
    """
    if len(sigs_a) == 0:
        return np.zeros(0, dtype=np.float64)
    out = np.empty(len(sigs_a), dtype=np.float64)
    for lo in range(0, len(sigs_a), _VERIFY_CHUNK):
        hi = lo + _VERIFY_CHUNK
        out[lo:hi] = (sigs_a[lo:hi] == sigs_b[lo:hi]).mean(axis=1)
    return out


def verify_pairs(sigs: np.ndarray, pairs: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Keep the candidate pairs whose estimated Jaccard similarity is at least ``threshold``.

    Args:
        sigs: ``(n, num_perm)`` signatures indexed by the pair entries.
        pairs: ``(m, 2)`` candidate pairs.
        threshold: minimum similarity.

    Returns:
        ``(kept_pairs, similarities)``.
    """
    if len(pairs) == 0:
        return pairs, np.zeros(0, dtype=np.float64)
    sim = estimated_jaccard(sigs[pairs[:, 0]], sigs[pairs[:, 1]])
    keep = sim >= threshold - 1e-12
    return pairs[keep], sim[keep]


def connected_components(n: int, edges: np.ndarray) -> np.ndarray:
    """Connected components of an undirected graph, labelled by their smallest node.

    Min-label propagation with pointer jumping, all vectorized: deterministic and independent of edge order.

    Args:
        n: number of nodes ``0 .. n - 1``.
        edges: ``(m, 2)`` int array.

    Returns:
        ``labels`` (int64, length ``n``): ``labels[i]`` is the smallest node of ``i``'s component.
    """
    labels = np.arange(n, dtype=np.int64)
    if len(edges) == 0:
        return labels
    u = edges[:, 0].astype(np.int64)
    v = edges[:, 1].astype(np.int64)
    while True:
        before = labels.copy()
        low = np.minimum(labels[u], labels[v])
        np.minimum.at(labels, u, low)
        np.minimum.at(labels, v, low)
        while True:  # pointer jumping: labels[i] <- labels[labels[i]] until it settles
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(labels, before):
            return labels


def cluster_documents(sigs: np.ndarray, params: MinHashParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Near-duplicate clusters of documents from their signatures (LSH candidates, verified, then components).

    Documents without shingles are never near-duplicates of anything.

    Args:
        sigs: ``(n, num_perm)`` signatures, in row order (row order decides representatives).
        params: banding and threshold.

    Returns:
        ``(labels, edges, similarities)``: ``labels[i]`` is the smallest row of ``i``'s cluster (its
        representative), plus the verified edges and their estimated similarities.
    """
    n = sigs.shape[0]
    bands = band_hashes(sigs, params.bands, params.rows_per_band)
    empty = empty_mask(sigs)
    if empty.any():  # empty documents get unique band values so they never collide
        bands[empty] = fmix64(np.arange(n, dtype=U64)[empty, None] * U64(params.bands + 1) + U64(1))
    pairs = candidate_pairs(bands, params.max_bucket_pairs)
    edges, sim = verify_pairs(sigs, pairs, params.threshold)
    return connected_components(n, edges), edges, sim


def near_duplicate_clusters(texts: Sequence[str | None] | Any, params: MinHashParams) -> np.ndarray:
    """Cluster labels of a batch of texts held in memory (shingles, signatures, LSH, verification, components).

    Args:
        texts: the documents.
        params: MinHash and LSH parameters.

    Returns:
        ``labels`` as in :func:`connected_components`.
    """
    values, offsets = shingle_hashes(texts, params.shingle_size)
    a, b = permutations(params.num_perm, params.seed)
    labels, _, _ = cluster_documents(signatures(values, offsets, a, b), params)
    return labels


def exact_jaccard(x: Sequence[int], y: Sequence[int]) -> float:
    """Jaccard similarity of two shingle sets (for tests and benchmarks).

    Args:
        x: shingle values of one document.
        y: shingle values of the other.

    Returns:
        ``|X & Y| / |X | Y|`` (0.0 for two empty sets).
    """
    sx, sy = set(x), set(y)
    union = len(sx | sy)
    return len(sx & sy) / union if union else 0.0


def string_hashes(texts: Any) -> np.ndarray:
    """A 64-bit hash of each whole string (its UTF-8 bytes as given, no normalisation), vectorized.

    Args:
        texts: a sequence of strings or a pyarrow string array; null hashes like the empty string.

    Returns:
        uint64 array, one value per string.
    """
    import pyarrow as pa

    array = texts if isinstance(texts, pa.Array | pa.ChunkedArray) else pa.array(list(texts), type=pa.string())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks else pa.array([], type=pa.string())
    array = array.cast(pa.large_string()).fill_null("")
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    buffer = array.buffers()[2]
    data = np.frombuffer(buffer, dtype=np.uint8) if buffer is not None else np.zeros(0, dtype=np.uint8)
    out = np.empty(len(array), dtype=U64)
    lengths = np.diff(offsets).astype(U64)
    # cache-sized slices: the uint64 temporaries of a slice stay in cache, which is what makes this fast
    step = _HASH_SLICE_BYTES
    cuts = np.searchsorted(offsets, np.arange(int(offsets[0]) + step, int(offsets[-1]), step))
    bounds = np.unique(np.concatenate(([0], cuts, [len(array)]))).astype(np.int64)
    inv = _pow_table(_BASE_INV, step)
    fwd = _pow_table(_BASE, step)
    prefix_buffer = np.empty(step + 1, dtype=U64)
    for lo, hi in itertools.pairwise(bounds):
        first, last = int(offsets[lo]), int(offsets[hi])
        size = last - first
        if size > step:  # one string longer than a slice
            inv, fwd = _pow_table(_BASE_INV, size), _pow_table(_BASE, size)
            prefix_buffer = np.empty(size + 1, dtype=U64)
        prefix = prefix_buffer[: size + 1]
        prefix[0] = 0
        if size:
            np.multiply(data[first:last], inv[:size], out=prefix[1:], dtype=U64)
            np.cumsum(prefix[1:], out=prefix[1:])
        s = offsets[lo:hi] - first
        e = offsets[lo + 1 : hi + 1] - first
        out[lo:hi] = (prefix[e] - prefix[s]) * fwd[np.minimum(s, max(size - 1, 0))]
    return fmix64(out ^ lengths)
