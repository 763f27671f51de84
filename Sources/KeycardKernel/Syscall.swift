import Glibc

/// The one syscall helper: retries EINTR and turns -1 into a `KernelError` naming the call.
@discardableResult
@inline(__always)
public func syscall<T: FixedWidthInteger>(
    _ operation: String, _ subject: @autoclosure () -> String = "", _ body: () -> T
) throws(KernelError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = Glibc.errno
        if code == EINTR { continue }
        throw KernelError(operation, subject: subject(), errno: code)
    }
}
