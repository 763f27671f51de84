import Foundation
import KeycardKernel

/// Two throwaway namespaces with a unique prefix, deleted at the end whatever happens.
struct ScratchNamespaces {
    let names: [String]

    init(_ count: Int) throws {
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        names = (0..<count).map { "kc-linktest\(tag).n\($0)" }
        for name in names { try NetworkNamespace.create(name) }
    }

    func remove() {
        for name in names { try? NetworkNamespace.delete(name) }
    }
}
