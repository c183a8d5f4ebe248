"""Where touching digits may be cut: paths from the top of a blob of ink to its bottom that
cross as little ink as they can, bending round strokes where a straight cut would slice them.

Each path is a shortest path through a cost map (ink dear, paper cheap, a sideways step a
little dearer than a step down), found for every column of the blob's middle row at once by
two passes of dynamic programming, one from the top and one from the bottom. The columns
where the cheapest path through the middle row is cheapest nearby are the candidates. A
shortest path slices straight through the joint of two digits where it is thinnest; beside
each, a drop-fall rising from its bottom end keeps to the paper round the joint instead
(`rising_drops`). The search over segmentations (`segmentation`) decides which of them are cuts.
"""

import numpy as np

INK_COST = 12.0  # crossing one ink pixel costs as much as this many steps through the paper
SIDE_COST = 0.4  # a diagonal step costs this much more than a step straight down
# How far a drop slides along the top of a stroke in one row before it cuts down through it,
# for the blob's height: about a stroke's breadth past a joint
SLIDE = 0.3


def cut_paths(mask, spacing, most):
    """Candidate cuts through a boolean blob `mask`, left to right: for each, the column at
    which it leaves every row (an int array as long as the mask is tall; a cut keeps the
    columns left of it). At most `most` cuts, at least `spacing` columns apart in the middle
    row, never at the mask's outer columns."""
    width = mask.shape[1]
    if width < 3 or most < 1:
        return []
    through, path_through = _through_middle(mask)
    inner = np.arange(1, width - 1)
    lowest = inner[(through[inner] <= through[inner - 1]) & (through[inner] <= through[inner + 1])]
    chosen = []
    for x in lowest[np.argsort(through[lowest], kind="stable")]:
        if all(abs(x - other) >= spacing for other in chosen):
            chosen.append(int(x))
            if len(chosen) == most:
                break
    return [path_through(x) for x in sorted(chosen)]


def rising_drops(mask, columns):
    """Drop-fall cuts through a boolean blob `mask`, one rising from each of `columns` of its
    bottom row (each as `cut_paths` gives a cut: the column it leaves every row by). Where a
    shortest path slices through two digits' joint, often through a stroke of one of them, the
    drop keeps to the paper round the joint as long as it can (`_drop_fall`). The blob is
    turned over and read as lists once for all of them (0.3 ms for one 600 pixels wide)."""
    paper = (~mask[::-1]).tolist()
    reach = max(1, int(SLIDE * mask.shape[0]))
    return [_drop_fall(paper, column, reach)[::-1] for column in columns]


def distinct_cuts(mask, paths):
    """The cut `paths` through a boolean blob `mask` that part its ink differently, left to
    right by their median column: of paths that leave the same ink on each side of every row,
    the first is kept, since they make the same pieces."""
    rows, width = mask.shape
    left_of = np.zeros((rows, width + 1), dtype=np.int32)
    np.cumsum(mask, axis=1, out=left_of[:, 1:])
    every_row = np.arange(rows)
    kept, seen = [], set()
    for path in sorted(paths, key=lambda path: float(np.median(path))):
        parted = left_of[every_row, path].tobytes()
        if parted not in seen:
            seen.add(parted)
            kept.append(path)
    return kept


def paths_through_middle(mask):
    """The cheapest path through each inner column of a boolean blob's middle row, left to
    right (each as `cut_paths` gives a cut): every path `cut_paths` could choose."""
    width = mask.shape[1]
    if width < 3:
        return []
    path_through = _through_middle(mask)[1]
    return [path_through(x) for x in range(1, width - 1)]


def _through_middle(mask):
    """The cheapest cost of a path from a blob's top row to its bottom row through each
    column of its middle row, and a function that gives that path for a column."""
    height = mask.shape[0]
    cost = np.where(mask, INK_COST, 1.0).astype(np.float32)
    down, down_moves = _accumulate(cost)
    up, up_moves = _accumulate(cost[::-1])
    middle = height // 2
    through = down[middle] + up[height - 1 - middle] - cost[middle]

    def path_through(x):
        above = _trace(down_moves, middle, x)
        below = _trace(up_moves, height - 1 - middle, x)[::-1]
        return np.concatenate([above, below[1:]])

    return through, path_through


def _accumulate(cost):
    """The cheapest cost of a path from the first row to each pixel (moving one row down and
    at most one column aside per step), and where each came from: -1, 0 or +1, the column
    left of it, its own or the one right of it, in the row above (its own on a tie, then the
    left one).

    Only the totals need a loop over the rows, each row's from the one above in three numpy
    calls; where each came from is read off afterwards for all rows at once. (Choosing the
    moves row by row took twelve calls a row, and two and a half times as long.)
    """
    height, width = cost.shape
    # a column of infinity either side, so that the edge columns' missing neighbours never win
    padded = np.full((height, width + 2), np.inf, dtype=cost.dtype)
    total = padded[:, 1:-1]
    total[0] = cost[0]
    for row in range(1, height):
        above = padded[row - 1]
        best = np.minimum(above[:-2], above[2:])
        best += SIDE_COST
        np.minimum(best, above[1:-1], out=best)
        np.add(cost[row], best, out=total[row])
    own = padded[:-1, 1:-1]
    left, right = padded[:-1, :-2] + SIDE_COST, padded[:-1, 2:] + SIDE_COST
    moves = np.zeros(cost.shape, dtype=np.int8)
    moves[1:][(left < own) & (left <= right)] = -1
    moves[1:][(right < own) & (right < left)] = 1
    return total, moves.tolist()


def _trace(moves, row, x):
    """The columns of the cheapest path from the first row to (`row`, `x`), first row first,
    following `moves` (`_accumulate`'s, as lists)."""
    columns = [0] * (row + 1)
    x = int(x)
    for current in range(row, -1, -1):
        columns[current] = x
        x += moves[current][x]
    return np.array(columns, dtype=np.int64)


def _drop_fall(paper, column, reach):
    """The column a drop leaves each row by, falling from `column` of the top row of `paper`
    (rows of booleans, true where there is no ink): straight down through the paper, else
    down-left, else down-right; held on ink, it slides along the top of the stroke (at most
    `reach` columns, never straight back the way it came) to where it can fall again, and cuts
    straight down through the ink only where it cannot. Kept from column 1 on, so that each
    side of the cut holds a column."""
    rows, width = len(paper), len(paper[0])
    x, came, path = int(column), 0, [int(column)]
    for row in range(rows - 1):
        below = paper[row + 1]
        if not below[x]:
            if x > 0 and below[x - 1]:
                x -= 1
            elif x < width - 1 and below[x + 1]:
                x += 1
            else:
                x, came = _slid(paper[row], below, x, came, reach)
        path.append(x)
    return np.clip(np.array(path, dtype=np.int64), 1, width - 1)


def _slid(here, below, x, came, reach):
    """Where a drop held at column `x` goes along a row (`here` and `below`: which columns of
    it and of the next are paper), having last slid in direction `came`: the first paper
    column with paper below, at most `reach` away, rightwards first unless it came from the
    right; (its column, the direction) or, when there is none, (`x`, `came`) to cut down."""
    for step in (1, -1):
        if came and step == -came:
            continue
        moved = x
        for _ in range(reach):
            moved += step
            if not 0 <= moved < len(here) or not here[moved]:
                break
            if below[moved]:
                return moved, step
    return x, came
