//! `AverageWaitTimeRanked/NonRanked`: the mean of recent real waits.

use std::collections::VecDeque;

const KEEP: usize = 100;

#[derive(Debug, Default)]
pub struct WaitTimes {
    ranked: VecDeque<f64>,
    non_ranked: VecDeque<f64>,
}

impl WaitTimes {
    pub fn record(&mut self, ranked: bool, seconds: f64) {
        let list = if ranked {
            &mut self.ranked
        } else {
            &mut self.non_ranked
        };
        if list.len() == KEEP {
            list.pop_front();
        }
        list.push_back(seconds.max(0.0));
    }

    /// Mean of the last waits, one decimal like the official figures (84.2),
    /// or `default` before any race was made.
    pub fn average(&self, ranked: bool, default: f64) -> f64 {
        let list = if ranked {
            &self.ranked
        } else {
            &self.non_ranked
        };
        if list.is_empty() {
            return default;
        }
        let mean = list.iter().sum::<f64>() / list.len() as f64;
        (mean * 10.0).round() / 10.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_recent_waits_per_kind() {
        let mut w = WaitTimes::default();
        assert_eq!(w.average(true, 60.0), 60.0);
        w.record(true, 80.0);
        w.record(true, 90.5);
        w.record(false, 10.0);
        assert_eq!(w.average(true, 60.0), 85.3);
        assert_eq!(w.average(false, 60.0), 10.0);
        for _ in 0..200 {
            w.record(false, 1.0);
        }
        assert_eq!(w.average(false, 60.0), 1.0, "only the last 100 count");
    }
}
