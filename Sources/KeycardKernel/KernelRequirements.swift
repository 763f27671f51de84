import Glibc

/// What keycard's datapath needs from the running kernel, checked before a lab is touched.
///
/// - Concatenated interval sets (pipapo, `ipv4_addr . inet_proto . inet_service; flags interval`)
///   exist since Linux 5.6 (3c4287f62044).
/// - Set lookups stay atomic while elements change — every policy change is an element change —
///   only since the base_seq retry and pipapo genbit fixes (b2f742c846ca, c4eaca2e1052): Linux
///   6.17, and stable 6.12.48 onwards. Before them a lookup could miss during a commit, and a miss
///   in an isolation set lets a packet through.
public struct KernelRequirements: Sendable, Equatable {
    /// A kernel version: major, minor, patch (`6.18.44-fc-v669` → 6, 18, 44).
    public struct Version: Comparable, Sendable, CustomStringConvertible {
        public var major: Int
        public var minor: Int
        public var patch: Int

        public init(_ major: Int, _ minor: Int, _ patch: Int = 0) {
            self.major = major
            self.minor = minor
            self.patch = patch
        }

        /// Parses `uname -r` text: leading `MAJOR.MINOR[.PATCH]`, anything after ignored; nil if absent.
        public init?(release: String) {
            let numbers = release.split(whereSeparator: { !$0.isNumber && $0 != "." }).first.map {
                $0.split(separator: ".").prefix(3).compactMap { Int($0) }
            }
            guard let numbers, numbers.count >= 2 else { return nil }
            self.init(numbers[0], numbers[1], numbers.count > 2 ? numbers[2] : 0)
        }

        public var description: String { "\(major).\(minor).\(patch)" }

        public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch) }
    }

    /// Concatenated interval sets.
    public static let concatIntervalSets = Version(5, 6)
    /// Atomic set lookups during commits: mainline.
    public static let atomicLookups = Version(6, 17)
    /// The same fixes in the 6.12 stable line.
    public static let atomicLookupsStable = Version(6, 12, 48)

    /// Why `version` cannot run keycard, or nil when it can.
    public static func problem(with version: Version) -> String? {
        if version < concatIntervalSets {
            return "Linux \(version) has no concatenated interval sets (nftables pipapo, Linux ≥ \(concatIntervalSets)); keycard needs them"
        }
        let fixed = version >= atomicLookups || (version.major == 6 && version.minor == 12 && version >= atomicLookupsStable)
        if !fixed {
            return
                "Linux \(version) may let a set lookup miss while elements change (fixed in \(atomicLookups) and \(atomicLookupsStable)); "
                + "keycard's updates would not be fail-closed"
        }
        return nil
    }

    /// The running kernel's release (`uname(2)`), or nil when it cannot be read or parsed.
    public static func running() -> Version? {
        var name = utsname()
        guard uname(&name) == 0 else { return nil }
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return Version(release: release)
    }
}
