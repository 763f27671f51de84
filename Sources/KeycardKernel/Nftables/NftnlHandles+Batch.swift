import CNetfilter
import KeycardRuleset

// Writing owned libnftnl objects into a batch: header, payload, seal. Each call borrows the
// object, so its handle is alive while libnftnl serialises it.

extension NftBatch {
    /// One message: the header for `kind` in `family`, the payload libnftnl builds into it, seal.
    func append(
        _ kind: NftMessageKind, family: UInt32, flags: Int32, subject: String, payload: (UnsafeMutablePointer<nlmsghdr>) -> Void
    ) {
        let nlh = header(kind, family: family, flags: flags, subject: subject)
        payload(nlh)
        seal(nlh)
    }
}

extension NftnlSet {
    /// NEWSETELEM / DELSETELEM with the elements this object holds.
    func appendElements(to batch: NftBatch, _ kind: NftMessageKind, subject: String) {
        let flags = kind == .newSetElements ? NLM_F_CREATE : 0
        batch.append(kind, family: family, flags: flags, subject: "set " + subject) { nftnl_set_elems_nlmsg_build_payload($0, raw) }
    }
}

extension Chain {
    /// NEWCHAIN payload: name, and for a base chain its type, hook, priority and policy.
    func lowered(_ context: LoweringContext) throws(KernelError) -> NftnlChain {
        let chain = try NftnlChain()
        chain.set(NFTNL_CHAIN_TABLE, string: context.table)
        chain.set(NFTNL_CHAIN_NAME, string: name)
        chain.set(NFTNL_CHAIN_FAMILY, u32: context.family.nfproto)
        if let base {
            chain.set(NFTNL_CHAIN_TYPE, string: base.type.rawValue)
            chain.set(NFTNL_CHAIN_HOOKNUM, u32: base.hook.number)
            chain.set(NFTNL_CHAIN_PRIO, s32: base.priority)
            chain.set(NFTNL_CHAIN_POLICY, u32: base.policy == .accept ? UInt32(NF_ACCEPT) : UInt32(NF_DROP))
        }
        return chain
    }
}

extension BaseChain.Hook {
    /// NF_INET_* hook number.
    var number: UInt32 {
        switch self {
        case .prerouting: UInt32(NF_INET_PRE_ROUTING.rawValue)
        case .input: UInt32(NF_INET_LOCAL_IN.rawValue)
        case .forward: UInt32(NF_INET_FORWARD.rawValue)
        case .output: UInt32(NF_INET_LOCAL_OUT.rawValue)
        case .postrouting: UInt32(NF_INET_POST_ROUTING.rawValue)
        }
    }
}
