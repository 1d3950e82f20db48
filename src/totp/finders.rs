//! A cheap count of the finder-pattern candidates in a black-and-white image, before the QR
//! reader sees it.
//!
//! The reader (`rqrr` 0.10) pairs every candidate with every other one and copies the image for
//! each pairing it tries: its time grows faster than the square of the candidate count, and it
//! exposes no limit. An image of a few hundred bytes tiled with finder patterns holds thousands
//! of candidates and keeps it busy for minutes. A real setup image has the code's three finder
//! patterns and a few look-alikes in its data; this scan counts the candidates the reader would
//! consider, with the reader's own row test, so that an image with too many is refused before
//! the reader runs.
//!
//! The reader finds a candidate on a row where five runs of black, white, black, white, black
//! have the widths 1:1:3:1:1 (each within ¾ of the mean of the four outer runs), on the
//! prepared (thresholded) image. Rows of one pattern are counted once: a row's hit whose span
//! overlaps a hit of the row above continues that candidate.

/// The most candidates an image may hold. Real setup codes drawn at 1 to 9 pixels per module
/// have 9 to 37 (a row of data can look like a finder pattern; the reader drops those later);
/// 121 tiled patterns, just under the limit, take the reader under a second in a debug build
/// and about 0.2 s in a release build, while 4096 of them (512×512 pixels) took minutes.
pub(crate) const MAX_CANDIDATES: usize = 128;

/// How many finder-pattern candidates the image holds, stopping once `limit` is passed (then
/// the answer is `limit + 1`). `is_dark(x, y)` is the prepared image's pixel.
pub(crate) fn count_candidates(
    width: usize,
    height: usize,
    limit: usize,
    is_dark: impl Fn(usize, usize) -> bool,
) -> usize {
    let mut count = 0;
    let mut above: Vec<(usize, usize)> = Vec::new();
    let mut here: Vec<(usize, usize)> = Vec::new();
    for y in 0..height {
        here.clear();
        let mut runs = [0usize; 5];
        let mut changes = 0usize;
        let mut dark = is_dark(0, y);
        let mut run = 1usize;
        // One virtual white pixel after the row, as the reader adds, closes a final pattern.
        for x in 1..=width {
            let pixel = x < width && is_dark(x, y);
            if pixel == dark {
                run += 1;
                continue;
            }
            runs.rotate_left(1);
            runs[4] = run;
            run = 1;
            dark = pixel;
            changes += 1;
            if !dark && changes >= 5 && is_finder_row(&runs) {
                let total: usize = runs.iter().sum();
                here.push((x - total, x - 1));
            }
        }
        for &(left, right) in &here {
            if !above.iter().any(|&(l, r)| l <= right && left <= r) {
                count += 1;
                if count > limit {
                    return count;
                }
            }
        }
        std::mem::swap(&mut above, &mut here);
    }
    count
}

/// The reader's 1:1:3:1:1 test on the last five runs (black, white, black, white, black).
fn is_finder_row(runs: &[usize; 5]) -> bool {
    const RATIO: [usize; 5] = [1, 1, 3, 1, 1];
    let mean = (runs[0] + runs[1] + runs[3] + runs[4]) / 4;
    let slack = mean * 3 / 4;
    runs.iter()
        .zip(RATIO)
        .all(|(&run, ratio)| run + slack >= ratio * mean && run <= ratio * mean + slack)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A `side`×`side` image tiled with finder patterns of `module` pixels per module.
    pub(crate) fn tiled(side: usize, module: usize) -> Vec<bool> {
        let cell = 8 * module;
        (0..side * side)
            .map(|i| {
                let (x, y) = (i % side, i / side);
                let (cx, cy) = ((x % cell) / module, (y % cell) / module);
                if cx >= 7 || cy >= 7 {
                    return false;
                }
                let ring = cx == 0 || cx == 6 || cy == 0 || cy == 6;
                let stone = (2..=4).contains(&cx) && (2..=4).contains(&cy);
                ring || stone
            })
            .collect()
    }

    #[test]
    fn counts_each_pattern_once_at_any_scale() {
        for (side, module, expected) in [(16, 1, 4), (64, 1, 64), (64, 2, 16), (256, 4, 64)] {
            let image = tiled(side, module);
            let count = count_candidates(side, side, usize::MAX, |x, y| image[y * side + x]);
            assert_eq!(count, expected, "{side} px, {module} px per module");
        }
    }

    #[test]
    fn stops_past_the_limit() {
        let image = tiled(512, 1);
        assert_eq!(
            count_candidates(512, 512, 10, |x, y| image[y * 512 + x]),
            11
        );
    }

    #[test]
    fn a_blank_image_has_none() {
        assert_eq!(count_candidates(40, 40, 5, |_, _| false), 0);
        assert_eq!(count_candidates(40, 40, 5, |_, _| true), 0);
    }
}
