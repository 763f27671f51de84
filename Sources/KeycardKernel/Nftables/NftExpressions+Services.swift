import CNetfilter

/// The expressions of keycard's Service proxy (`ServiceProxyCompiler`): endpoint choice by hash,
/// and DNAT.
extension NftExpr {
    static let register2 = UInt32(NFT_REG_2.rawValue)

    /// `[ hash reg 1 = jhash(reg 1, LEN, SEED) % MODULUS ]`. The seed is always given: without one
    /// the kernel draws a random seed (`nft_jhash_init`) and user space could not aim at an endpoint.
    static func jhash(length: UInt32, modulus: UInt32, seed: UInt32) throws(KernelError) -> NftnlExpr {
        let expr = try NftnlExpr("hash")
        expr.set(NFTNL_EXPR_HASH_SREG, u32: register1)
        expr.set(NFTNL_EXPR_HASH_DREG, u32: register1)
        expr.set(NFTNL_EXPR_HASH_LEN, u32: length)
        expr.set(NFTNL_EXPR_HASH_MODULUS, u32: modulus)
        expr.set(NFTNL_EXPR_HASH_SEED, u32: seed)
        expr.set(NFTNL_EXPR_HASH_OFFSET, u32: 0)
        expr.set(NFTNL_EXPR_HASH_TYPE, u32: UInt32(NFT_HASH_JENKINS.rawValue))
        return expr
    }

    /// `[ immediate reg R DATA ]`
    static func immediate(_ data: [UInt8], into register: UInt32) throws(KernelError) -> NftnlExpr {
        let expr = try NftnlExpr("immediate")
        expr.set(NFTNL_EXPR_IMM_DREG, u32: register)
        expr.set(NFTNL_EXPR_IMM_DATA, bytes: data)
        return expr
    }

    /// `[ nat dnat ip addr_min reg 1 proto_min reg 2 ]`: the kernel sets NF_NAT_RANGE_MAP_IPS and
    /// NF_NAT_RANGE_PROTO_SPECIFIED from the registers given (`nft_nat_init`).
    static func dnat() throws(KernelError) -> NftnlExpr {
        let expr = try NftnlExpr("nat")
        expr.set(NFTNL_EXPR_NAT_TYPE, u32: UInt32(NFT_NAT_DNAT.rawValue))
        expr.set(NFTNL_EXPR_NAT_FAMILY, u32: UInt32(NFPROTO_IPV4))
        expr.set(NFTNL_EXPR_NAT_REG_ADDR_MIN, u32: register1)
        expr.set(NFTNL_EXPR_NAT_REG_PROTO_MIN, u32: register2)
        return expr
    }
}

/// The expressions of the node-port proxy (`NodePortCompiler`): marking a connection for source
/// NAT, and the source NAT itself.
extension NftExpr {
    /// `[ nat snat ip addr_min reg 1 ]`: the address only; the kernel keeps the source port unless
    /// it clashes (`nft_nat_init` sets NF_NAT_RANGE_MAP_IPS from the register given).
    static func snat() throws(KernelError) -> NftnlExpr {
        let expr = try NftnlExpr("nat")
        expr.set(NFTNL_EXPR_NAT_TYPE, u32: UInt32(NFT_NAT_SNAT.rawValue))
        expr.set(NFTNL_EXPR_NAT_FAMILY, u32: UInt32(NFPROTO_IPV4))
        expr.set(NFTNL_EXPR_NAT_REG_ADDR_MIN, u32: register1)
        return expr
    }

    /// `[ meta set KEY with reg 1 ]`
    static func setMeta(_ key: nft_meta_keys) throws(KernelError) -> NftnlExpr {
        let expr = try NftnlExpr("meta")
        expr.set(NFTNL_EXPR_META_KEY, u32: key.rawValue)
        expr.set(NFTNL_EXPR_META_SREG, u32: register1)
        return expr
    }
}
