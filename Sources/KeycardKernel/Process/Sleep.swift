import Glibc

/// Blocking sleeps for synchronous code (the lab's work never runs on the concurrency pool).
public enum Sleep {
    /// Sleeps `count` milliseconds on this thread, resuming after signals (EINTR) until the time is up.
    public static func milliseconds(_ count: Int) {
        var request = timespec(tv_sec: count / 1000, tv_nsec: (count % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
