//! How long the lab lets things run at each pace. The emulator's pace sets
//! how long AWS-side transitions take; these are the lab's own waits.

use std::time::Duration;

use snaplab_cloud::TargetPace;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tempo {
    /// Orders before the snapshot, so there is history to lose.
    pub warm_up: Duration,
    /// How long keep-writing watches orders flow while the snapshot is pending.
    pub keep_writing: Duration,
    /// Between DescribeSnapshots/DescribeVolumes polls.
    pub poll: Duration,
    /// Between workload samples (the orders/s chart).
    pub sample: Duration,
    pub orders_per_sec: f64,
    /// Longest wait for any one transition.
    pub patience: Duration,
}

impl Tempo {
    /// The tempo for a target's pace, writing for long enough before and
    /// after the snapshot that some orders provably come before and some
    /// after it, however precisely the target knows its StartTime.
    pub fn for_target(pace: TargetPace, start_time_precision: Duration) -> Self {
        let tempo = Self::for_pace(pace);
        let around = start_time_precision * 5 / 2;
        Self {
            warm_up: tempo.warm_up.max(around),
            keep_writing: tempo.keep_writing.max(around),
            ..tempo
        }
    }

    /// The tempo for a target's pace.
    pub fn for_pace(pace: TargetPace) -> Self {
        let ms = Duration::from_millis;
        match pace {
            TargetPace::Instant => Self {
                warm_up: ms(150),
                keep_writing: ms(200),
                poll: ms(20),
                sample: ms(100),
                orders_per_sec: 400.0,
                patience: Duration::from_secs(60),
            },
            TargetPace::Realistic => Self {
                warm_up: Duration::from_secs(5),
                keep_writing: Duration::from_secs(8),
                poll: Duration::from_secs(2),
                sample: ms(500),
                orders_per_sec: 40.0,
                patience: Duration::from_secs(1800),
            },
            // Peers report StartTime to the second: write for longer than
            // that before and after, so some orders provably come before the
            // snapshot and some after it.
            TargetPace::Unpaced => Self {
                warm_up: ms(2500),
                keep_writing: ms(1800),
                poll: ms(200),
                sample: ms(200),
                orders_per_sec: 100.0,
                patience: Duration::from_secs(300),
            },
            // Real AWS: the snapshot of a mostly empty 1 GiB volume takes
            // minutes; every shop call is an SSM round trip of seconds.
            TargetPace::Aws => Self {
                warm_up: Duration::from_secs(15),
                keep_writing: Duration::from_secs(30),
                poll: Duration::from_secs(5),
                sample: Duration::from_secs(3),
                orders_per_sec: 20.0,
                patience: Duration::from_secs(45 * 60),
            },
            TargetPace::Demo => Self {
                warm_up: Duration::from_secs(2),
                keep_writing: ms(2500),
                poll: ms(250),
                sample: ms(250),
                orders_per_sec: 60.0,
                patience: Duration::from_secs(600),
            },
        }
    }
}
