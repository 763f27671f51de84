/// What the Linux kernel takes at execve(2), for the programs keycard starts.
public enum ExecLimits {
    /// The most bytes one argument or `NAME=value` environment string may hold, its terminating
    /// NUL included: MAX_ARG_STRLEN (`PAGE_SIZE * 32`, include/uapi/linux/binfmts.h); execve
    /// fails with E2BIG ("Argument list too long") on a longer one (fs/exec.c `copy_strings`,
    /// `valid_arg_len`).
    public static let maximumStringBytes = 131_072

    /// Whether `string` passes as one argument or environment string.
    public static func fits(_ string: String) -> Bool { string.utf8.count < maximumStringBytes }
}
