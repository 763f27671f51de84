/// The rule for a lab's name, in one place: it becomes the network namespaces' and nftables
/// tables' prefix (`kc-<lab>.`) and the directory `/run/keycard/<lab>`, so it must be a single
/// path component that cannot climb out of that folder: 1 to 24 characters from `[a-z0-9-]`, the
/// first not `-` (the command line would read it as an option).
/// `keycard up`/`run` check a scenario's `metadata.name` with it, the planner checks the plan's
/// name with it, and every verb that takes a lab name checks the argument with it before it
/// touches the file system.
public enum LabName {
    /// The longest lab name: `kc-<lab>.` plus a role must fit the 255-byte namespace file names
    /// and the nftables table names comfortably.
    public static let maxLength = 24

    /// Why `name` is not a valid lab name (`"must not be empty"`, `"must be at most 24
    /// characters"`, `"must contain only lower-case letters, digits and '-'"`, `"must start with a
    /// lower-case letter or digit"`), or nil when it is.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.utf8.count > maxLength { return "must be at most \(maxLength) characters" }
        guard name.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }) else {
            return "must contain only lower-case letters, digits and '-'"
        }
        // A name like `--all` or `-v` would be read as an option by every verb that takes it.
        if name.hasPrefix("-") { return "must start with a lower-case letter or digit" }
        return nil
    }

    /// The name of a lab a verb builds beside `base`'s (`generate --prove`, `diff --prove`):
    /// `base` cut to leave room, then `-` and `role`, so that such labs keep the user's prefix
    /// (`--lab`, the scenario's name) and never take the name of `base` itself.
    public static func derived(from base: String, role: String) -> String {
        let room = max(0, maxLength - role.utf8.count - 1)
        var stem = String(base.prefix(room))
        while stem.hasSuffix("-") { stem.removeLast() }
        return stem.isEmpty ? role : "\(stem)-\(role)"
    }

    /// True when `name` is a valid lab name (`problem(name) == nil`).
    public static func isValid(_ name: String) -> Bool { problem(name) == nil }
}
