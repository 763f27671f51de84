import KeycardModel
import KeycardValues

/// What an external's address must not be (the lab's own blocks are `LabNetwork.reserved`).
public enum LabAddresses {
    /// Why `ip` cannot be an external's address, or nil.
    public static func externalProblem(_ ip: IPv4) -> String? {
        let first = ip.value >> 24
        if ip.value == 0 || first == 0 { return "is in 0.0.0.0/8" }
        if first == 127 { return "is a loopback address" }
        if first >= 224 { return "is multicast or reserved" }
        if let block = LabNetwork.reserved.first(where: { $0.contains(ip) }) { return "is in \(block), which the lab reserves" }
        return nil
    }
}
