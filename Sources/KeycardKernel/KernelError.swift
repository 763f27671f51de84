import Glibc

/// Every failure of a kernel adapter: which operation, on what, and the errno it got.
public struct KernelError: Error, CustomStringConvertible, Sendable, Equatable {
    public let operation: String
    public let subject: String
    public let errno: Int32

    public init(_ operation: String, subject: String = "", errno: Int32) {
        self.operation = operation
        self.subject = subject
        self.errno = errno
    }

    public var description: String {
        let what = subject.isEmpty ? operation : "\(operation) \(subject)"
        return "\(what): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
