/// The endpoint choice of keycard's Service proxy, computed in user space exactly as the kernel's
/// `nft_hash` expression computes it (`jhash th sport mod N seed S`), so that a prober can pick a
/// source port that lands on a chosen backend and so exercise every backend through the real
/// ClusterIP.
///
/// Kernel: `nft_jhash_eval` (net/netfilter/nft_hash.c) does
/// `reciprocal_scale(jhash(key, len, seed), modulus) + offset` over the register holding the
/// 2-byte source port in network order; `jhash` is Bob Jenkins' lookup3 (include/linux/jhash.h).
/// kube-proxy picks with `numgen random mod N` instead; a random pick cannot be aimed.
public enum ServiceHash {
    /// The seed keycard programs (`seed 0x6b63`, "kc"); the kernel would draw a random one if none
    /// were given, which user space could not reproduce.
    public static let seed: UInt32 = 0x6b63

    /// Linux `jhash(key, length, initval)` for keys of at most 12 bytes.
    public static func jhash(_ key: [UInt8], seed: UInt32) -> UInt32 {
        precondition(key.count <= 12, "keycard only hashes short keys")
        var a = 0xdead_beef &+ UInt32(key.count) &+ seed
        var b = a
        var c = a
        if key.isEmpty { return c }
        func byte(_ index: Int, _ shift: UInt32) -> UInt32 { index < key.count ? UInt32(key[index]) << shift : 0 }
        a = a &+ byte(0, 0) &+ byte(1, 8) &+ byte(2, 16) &+ byte(3, 24)
        b = b &+ byte(4, 0) &+ byte(5, 8) &+ byte(6, 16) &+ byte(7, 24)
        c = c &+ byte(8, 0) &+ byte(9, 8) &+ byte(10, 16) &+ byte(11, 24)
        func rol(_ value: UInt32, _ shift: UInt32) -> UInt32 { (value << shift) | (value >> (32 - shift)) }
        // __jhash_final: seven rounds of `x ^= y; x -= rol32(y, shift)` over the registers
        // (a, b, c) = (0, 1, 2), each round given as (x, y, shift) in the kernel's order.
        var registers = [a, b, c]
        let rounds: [(Int, Int, UInt32)] = [(2, 1, 14), (0, 2, 11), (1, 0, 25), (2, 1, 16), (0, 2, 4), (1, 0, 14), (2, 1, 24)]
        for (x, y, shift) in rounds {
            registers[x] ^= registers[y]
            registers[x] = registers[x] &- rol(registers[y], shift)
        }
        return registers[2]
    }

    /// The endpoint index (0..<count) the kernel picks for a connection from `sourcePort`.
    public static func endpointIndex(sourcePort: UInt16, count: Int, seed: UInt32 = seed) -> Int {
        precondition(count > 0)
        let hash = jhash([UInt8(sourcePort >> 8), UInt8(sourcePort & 0xff)], seed: seed)
        // reciprocal_scale(val, ep_ro) = (u32)(((u64)val * ep_ro) >> 32)
        return Int((UInt64(hash) * UInt64(count)) >> 32)
    }

    /// The first source port in `ports` that lands on endpoint `index` of `count`, skipping `used`.
    public static func sourcePort(
        landingOn index: Int, of count: Int, in ports: ClosedRange<UInt16>, skipping used: Set<UInt16> = [], seed: UInt32 = seed
    ) -> UInt16? {
        ports.first { !used.contains($0) && endpointIndex(sourcePort: $0, count: count, seed: seed) == index }
    }
}
