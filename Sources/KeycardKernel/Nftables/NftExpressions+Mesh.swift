import CNetfilter

/// The expressions of the mesh's redirection (`MeshRedirectCompiler`): the socket mark and
/// `redirect`.
extension NftExpr {
    /// NF_NAT_RANGE_PROTO_SPECIFIED of <linux/netfilter/nf_nat.h> (not imported by the shim): the
    /// range carries a port. nft sends it with every `redirect to :PORT`.
    static let natRangeProtoSpecified: UInt32 = 0x2

    /// `[ redir proto_min reg 1 proto_max reg 1 flags 0x2 ]`: redirect to the port held in reg 1
    /// (network order), exactly what nft 1.0.6 sends for `redirect to :PORT`.
    static func redirect() throws(KernelError) -> NftnlExpr {
        let expr = try NftnlExpr("redir")
        expr.set(NFTNL_EXPR_REDIR_REG_PROTO_MIN, u32: register1)
        expr.set(NFTNL_EXPR_REDIR_REG_PROTO_MAX, u32: register1)
        expr.set(NFTNL_EXPR_REDIR_FLAGS, u32: natRangeProtoSpecified)
        return expr
    }
}
