import Foundation
import KeycardKernel

/// Checks that the machine can run a lab.
enum Environment {
    static func requireRoot() throws {
        guard Privileges.isRoot else {
            Console.error("keycard builds network namespaces and nftables rules: run it as root (sudo keycard ...)")
            throw Exit.invalid
        }
    }
}
