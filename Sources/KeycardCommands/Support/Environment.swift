import Foundation
import KeycardKernel

/// Checks that the machine can run a lab.
enum Environment {
    static func requireRoot() throws {
        guard Privileges.isRoot else {
            Console.error("keycard builds network namespaces and nftables rules: run it as root (sudo keycard ...)")
            throw Exit.invalid
        }
        try requireKernel()
    }

    /// The running kernel must have what the datapath uses (`KernelRequirements`); else exit 2.
    static func requireKernel() throws {
        guard let version = KernelRequirements.running() else {
            Console.error("keycard could not read the kernel's version (uname)")
            throw Exit.invalid
        }
        if let problem = KernelRequirements.problem(with: version) {
            Console.error(problem)
            throw Exit.invalid
        }
    }
}
