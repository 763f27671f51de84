import Glibc

/// Owns one file descriptor and closes it in `deinit` (or earlier with `close()`).
public final class OwnedDescriptor: @unchecked Sendable {
    public private(set) var raw: Int32

    public init(_ raw: Int32) { self.raw = raw }

    /// Gives up ownership without closing.
    public func release() -> Int32 {
        let fd = raw
        raw = -1
        return fd
    }

    /// Closes the descriptor now; later calls (and `deinit`) do nothing.
    public func close() {
        if raw >= 0 { Glibc.close(raw) }
        raw = -1
    }

    deinit { close() }
}
