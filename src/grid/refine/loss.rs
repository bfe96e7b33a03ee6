//! The loss of a curve's intervals and the choice of new points: python-adaptive's
//! `Learner1D` with its default loss, the length of each interval in scaled (x, y).
//!
//! x is scaled by the width of the start values, y by the spread of the curve's values so
//! far, so a flat stretch and a step of the same arc length are worth the same: points go
//! where the curve is long, not where it is dense already. A batch of `k` points splits
//! the intervals of largest loss, an interval split into `m` equal parts counting as `m`
//! intervals of loss `loss / m` (as `Learner1D.ask(k)` does).

/// Why a point was added: the interval it split, that interval's loss, and the round.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pick {
    /// The new point.
    pub x: f64,
    /// The interval it lies in: `lo < x < hi`, neighbours when it was chosen.
    pub lo: f64,
    /// The interval's upper end.
    pub hi: f64,
    /// The interval's loss before it was split.
    pub loss: f64,
}

/// Intervals narrower than this fraction of the x scale are never split: python-adaptive's
/// `_dx_eps` (2 × float epsilon × the bounds' magnitude), with room to spare, so that a
/// new point is always distinct from its neighbours.
const MIN_WIDTH: f64 = 1e-12;

/// The losses of the intervals between consecutive `points` (sorted by x, distinct):
/// `hypot(dx / x_scale, dy / y_scale)`, with `y_scale` the spread of the finite y (1 when
/// they do not spread). An interval with a non-finite end counts its x length alone; one
/// narrower than `MIN_WIDTH` (10⁻¹²) of the scale counts 0.
pub fn losses(points: &[(f64, f64)], x_scale: f64) -> Vec<f64> {
    let finite = points.iter().map(|p| p.1).filter(|y| y.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| (a.min(y), b.max(y)));
    let y_scale = if hi > lo { hi - lo } else { 1.0 };
    points
        .windows(2)
        .map(|w| {
            let dx = (w[1].0 - w[0].0) / x_scale;
            let dy = (w[1].1 - w[0].1) / y_scale;
            if dx < MIN_WIDTH {
                0.0
            } else if dy.is_finite() {
                dx.hypot(dy)
            } else {
                dx
            }
        })
        .collect()
}

/// Up to `k` new points among `points` (sorted by x, distinct), given the intervals'
/// `losses`: each goes to the interval whose loss per part is largest (ties to the lower
/// x), which is then split in one more equal part. Of those, the `keep` in the intervals of
/// largest loss per part (ties to the lower x), sorted by x; fewer when every interval is
/// already as fine as it may be.
///
/// A round cut short by the budget keeps part of a whole round's points rather than
/// choosing fewer (which would split the intervals differently): so a larger budget on
/// `--resume` chooses a whole round that holds the points already run.
pub fn choose(points: &[(f64, f64)], losses: &[f64], x_scale: f64, k: usize, keep: usize) -> Vec<Pick> {
    let mut parts = vec![1u32; losses.len()];
    for _ in 0..k {
        let best = (0..losses.len())
            .filter(|&i| {
                let width = (points[i + 1].0 - points[i].0) / x_scale;
                losses[i] > 0.0 && width / (parts[i] + 1) as f64 >= MIN_WIDTH
            })
            .max_by(|&a, &b| {
                let (la, lb) = (losses[a] / parts[a] as f64, losses[b] / parts[b] as f64);
                // On a tie, `max_by` keeps the later: reverse the index so the lower x wins.
                la.total_cmp(&lb).then(b.cmp(&a))
            });
        match best {
            Some(i) => parts[i] += 1,
            None => break,
        }
    }
    let mut picks = Vec::new();
    for (i, &m) in parts.iter().enumerate() {
        let (lo, hi) = (points[i].0, points[i + 1].0);
        for j in 1..m {
            let x = lo + (hi - lo) * j as f64 / m as f64;
            // Far from 0, a narrow interval may have no float strictly inside it, or fewer
            // than its parts: a point equal to another would be the same task twice.
            if x > lo && x < hi && picks.last().is_none_or(|(_, p): &(f64, Pick)| p.x < x) {
                picks.push((losses[i] / m as f64, Pick { x, lo, hi, loss: losses[i] }));
            }
        }
    }
    if picks.len() > keep {
        picks.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.x.total_cmp(&b.1.x)));
        picks.truncate(keep);
        picks.sort_by(|a, b| a.1.x.total_cmp(&b.1.x));
    }
    picks.into_iter().map(|(_, p)| p).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loss_is_the_scaled_length_of_each_interval() {
        // x over [0, 2], y spread 4: the step (0.5, 0) → (1, 4) is (0.25, 1) scaled.
        let pts = [(0.0, 0.0), (0.5, 0.0), (1.0, 4.0), (2.0, 4.0)];
        let l = losses(&pts, 2.0);
        assert_eq!(l, vec![0.25, 0.25f64.hypot(1.0), 0.5]);
        // A flat curve: y does not spread, y's scale is 1, the loss is the x length.
        assert_eq!(losses(&[(0.0, 3.0), (1.0, 3.0), (3.0, 3.0)], 3.0), vec![1.0 / 3.0, 2.0 / 3.0]);
        // A NaN end: its interval counts its x length.
        assert_eq!(losses(&[(0.0, 0.0), (1.0, f64::NAN), (2.0, 1.0)], 2.0), vec![0.5, 0.5]);
    }

    #[test]
    fn a_batch_splits_the_largest_losses_in_equal_parts() {
        let pts = [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0)];
        // Interval 0 has loss 3, interval 1 loss 1: three points go to 0 (3, 1.5, 1 per part
        // against 1: the tie goes to the lower x), then 0.75 < 1: the fourth to interval 1.
        let picks = choose(&pts, &[3.0, 1.0], 2.0, 4, 4);
        let xs: Vec<f64> = picks.iter().map(|p| p.x).collect();
        assert_eq!(xs, vec![0.25, 0.5, 0.75, 1.5]);
        assert_eq!(picks[0], Pick { x: 0.25, lo: 0.0, hi: 1.0, loss: 3.0 });
        assert_eq!(picks[3], Pick { x: 1.5, lo: 1.0, hi: 2.0, loss: 1.0 });
    }

    #[test]
    fn a_round_cut_short_keeps_part_of_the_whole_round() {
        let pts = [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0)];
        let whole = choose(&pts, &[3.0, 1.0], 2.0, 4, 4);
        // The interval of loss 3 in 4 parts (0.75 each) beats the other (0.5 each).
        let cut = choose(&pts, &[3.0, 1.0], 2.0, 4, 2);
        assert_eq!(cut.iter().map(|p| p.x).collect::<Vec<_>>(), vec![0.25, 0.5]);
        assert!(cut.iter().all(|p| whole.contains(p)), "{cut:?} within {whole:?}");
    }

    #[test]
    fn ties_go_to_the_lower_x_and_zero_losses_are_never_split() {
        let pts = [(0.0, 0.0), (1.0, 1.0), (2.0, 0.0), (3.0, 0.0)];
        let picks = choose(&pts, &[1.0, 1.0, 0.0], 3.0, 1, 1);
        assert_eq!(picks.iter().map(|p| p.x).collect::<Vec<_>>(), vec![0.5]);
        assert!(choose(&pts, &[0.0, 0.0, 0.0], 3.0, 5, 5).is_empty());
    }

    #[test]
    fn no_point_repeats_a_float_far_from_zero() {
        // Between 1e6 and its next float but one there is a single float.
        let (lo, hi) = (1e6, f64::from_bits(1e6f64.to_bits() + 2));
        let picks = choose(&[(lo, 0.0), (hi, 1.0)], &[1.0], 1e-9, 4, 4);
        assert_eq!(picks.iter().map(|p| p.x).collect::<Vec<_>>(), vec![f64::from_bits(1e6f64.to_bits() + 1)]);
    }

    #[test]
    fn intervals_at_the_finest_width_are_not_split() {
        let pts = [(0.0, 0.0), (1e-13, 1.0)];
        let l = losses(&pts, 1.0);
        assert_eq!(l, vec![0.0]);
        assert!(choose(&pts, &[1.0], 1.0, 3, 3).is_empty(), "too narrow to split even with a loss");
    }
}
