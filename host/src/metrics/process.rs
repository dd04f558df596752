//! The process's own figures, read from `/proc/self` on each scrape, under
//! the names every Prometheus client uses (`process_cpu_seconds_total`,
//! `process_resident_memory_bytes`, ...), so the usual dashboards work.
//! Elsewhere than Linux there is no `/proc`, and nothing is written.

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};

/// Clock ticks per second of the times in `/proc/self/stat`: `USER_HZ`,
/// which Linux fixes at 100 for everything it reports to user space.
const TICKS_PER_SECOND: f64 = 100.0;

/// What `/proc` says about this process.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProcessFigures {
    /// User plus system CPU time.
    pub cpu_seconds: f64,
    pub resident_bytes: u64,
    pub virtual_bytes: u64,
    pub threads: u64,
    pub open_fds: Option<u64>,
    /// Unix time the process started, when the boot time is known.
    pub start_time_seconds: Option<f64>,
}

/// Appends the process's figures, if `/proc` has them.
pub(super) fn encode(out: &mut String) -> std::fmt::Result {
    let Some(figures) = read() else {
        return Ok(());
    };
    let mut registry = Registry::with_prefix("process");
    registry.register_with_unit(
        "cpu",
        "Total user and system CPU time spent",
        Unit::Seconds,
        ConstCounter::new(figures.cpu_seconds),
    );
    registry.register_with_unit(
        "resident_memory",
        "Resident memory size",
        Unit::Bytes,
        ConstGauge::new(figures.resident_bytes as i64),
    );
    registry.register_with_unit(
        "virtual_memory",
        "Virtual memory size",
        Unit::Bytes,
        ConstGauge::new(figures.virtual_bytes as i64),
    );
    registry.register(
        "threads",
        "Threads of the process",
        ConstGauge::new(figures.threads as i64),
    );
    if let Some(open_fds) = figures.open_fds {
        registry.register(
            "open_fds",
            "Open file descriptors",
            ConstGauge::new(open_fds as i64),
        );
    }
    if let Some(start) = figures.start_time_seconds {
        registry.register_with_unit(
            "start_time",
            "Start time of the process since the Unix epoch",
            Unit::Seconds,
            ConstGauge::new(start),
        );
    }
    prometheus_text::encode(out, &registry)
}

/// Reads `/proc/self/stat`, `/proc/self/fd` and the boot time.
fn read() -> Option<ProcessFigures> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The resident size in `stat` is in pages; `status` gives it in kB,
    // whatever the page size, and replaces it when it can be read.
    let mut figures = parse_stat(&stat, 4096)?;
    if let Some(resident) = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| status_kib(&status, "VmRSS:"))
    {
        figures.resident_bytes = resident * 1024;
    }
    figures.open_fds = std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|entries| entries.count() as u64);
    let boot_time = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|stat| boot_time(&stat));
    figures.start_time_seconds = boot_time
        .zip(figures.start_time_seconds)
        .map(|(boot, since_boot)| boot as f64 + since_boot);
    Some(figures)
}

/// Parses `/proc/self/stat`. The command name (field 2) is in parentheses
/// and may itself contain spaces and parentheses, so the fields are counted
/// from the last `)`. `start_time_seconds` is left as seconds since boot.
pub(crate) fn parse_stat(stat: &str, page_size: u64) -> Option<ProcessFigures> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    // Field 3 (state) is the first after the name.
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |number: usize| -> Option<u64> { fields.get(number - 3)?.parse().ok() };
    let ticks = field(14)?.checked_add(field(15)?)?;
    Some(ProcessFigures {
        cpu_seconds: ticks as f64 / TICKS_PER_SECOND,
        threads: field(20)?,
        start_time_seconds: Some(field(22)? as f64 / TICKS_PER_SECOND),
        virtual_bytes: field(23)?,
        resident_bytes: field(24)?.saturating_mul(page_size),
        open_fds: None,
    })
}

/// A `Name:   123 kB` line of `/proc/self/status`, in kB.
fn status_kib(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

/// The `btime` line of `/proc/stat`: when the machine booted.
fn boot_time(stat: &str) -> Option<u64> {
    stat.lines()
        .find_map(|line| line.strip_prefix("btime "))
        .and_then(|value| value.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        // A command name with a space and a parenthesis, as a process may
        // name itself.
        let stat = "4242 (sw (x) y) S 1 4242 4242 0 -1 4194560 900 0 0 0 \
                    250 50 0 0 20 0 7 0 12345 104857600 2560 18446744073709551615";
        let figures = parse_stat(stat, 4096).unwrap();
        assert_eq!(figures.cpu_seconds, 3.0);
        assert_eq!(figures.threads, 7);
        assert_eq!(figures.start_time_seconds, Some(123.45));
        assert_eq!(figures.virtual_bytes, 104_857_600);
        assert_eq!(figures.resident_bytes, 2560 * 4096);
        assert_eq!(parse_stat("4242 (truncated", 4096), None);
        assert_eq!(parse_stat("1 (x) S 1 2", 4096), None);
    }

    #[test]
    fn status_and_boot_time_lines_are_read() {
        assert_eq!(
            status_kib("Name:\tx\nVmRSS:\t   10240 kB\n", "VmRSS:"),
            Some(10240)
        );
        assert_eq!(
            boot_time("cpu 1 2\nbtime 1700000000\n"),
            Some(1_700_000_000)
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_memory_and_threads() {
        let figures = read().expect("/proc/self is readable on Linux");
        assert!(figures.resident_bytes > 1024 * 1024, "{figures:?}");
        assert!(figures.threads >= 1);
        assert!(figures.open_fds.is_some_and(|fds| fds >= 3));
        let mut out = String::new();
        encode(&mut out).unwrap();
        assert!(
            out.contains("# TYPE process_cpu_seconds_total counter\n"),
            "{out}"
        );
        assert!(out.contains("process_resident_memory_bytes "), "{out}");
    }
}
