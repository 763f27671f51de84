import Glibc

/// Raises this process's RLIMIT_NOFILE soft limit to its hard limit and returns the new soft limit.
///
/// Thousands of listeners and in-flight probes each hold a descriptor; the usual soft limit (1,024)
/// is far too low, and raising it to the hard limit needs no privilege.
@discardableResult
public func raiseOpenFileLimit() throws(KernelError) -> UInt64 {
    var limit = rlimit()
    try syscall("getrlimit", "RLIMIT_NOFILE") { getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max
        try syscall("setrlimit", "RLIMIT_NOFILE") { setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) }
    }
    return UInt64(limit.rlim_cur)
}
