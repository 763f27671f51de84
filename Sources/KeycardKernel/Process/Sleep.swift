import Glibc

/// Blocking sleeps for synchronous code (the lab's work never runs on the concurrency pool).
public enum Sleep {
    public static func milliseconds(_ count: Int) {
        var request = timespec(tv_sec: count / 1000, tv_nsec: (count % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
