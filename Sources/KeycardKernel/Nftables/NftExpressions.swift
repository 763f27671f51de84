import CNetfilter

/// Builders for the libnftnl expressions keycard emits; each doc shows the `nft --debug=netlink` line.
/// Attribute values are host order; compared data and keys are network order.
enum NftExpr {
    static let verdictRegister = UInt32(NFT_REG_VERDICT.rawValue)
    static let register1 = UInt32(NFT_REG_1.rawValue)

    /// The 32-bit register for field `index` of a concatenation (`reg 1`, `reg 9`, `reg 10`, ...).
    static func concatRegister(_ index: Int) -> UInt32 {
        index == 0 ? register1 : UInt32(NFT_REG32_00.rawValue) + UInt32(index)
    }

    /// `[ payload load LENb @ network header + OFFSET => reg R ]`
    static func payload(
        _ base: nft_payload_bases, offset: UInt32, length: UInt32, into register: UInt32 = register1
    ) throws(KernelError) -> NftnlExpr {
        let expr = try NftnlExpr("payload")
        expr.set(NFTNL_EXPR_PAYLOAD_BASE, u32: base.rawValue)
        expr.set(NFTNL_EXPR_PAYLOAD_OFFSET, u32: offset)
        expr.set(NFTNL_EXPR_PAYLOAD_LEN, u32: length)
        expr.set(NFTNL_EXPR_PAYLOAD_DREG, u32: register)
        return expr
    }

    /// `[ meta load KEY => reg R ]`
    static func meta(_ key: nft_meta_keys, into register: UInt32 = register1) throws(KernelError) -> NftnlExpr {
        let expr = try NftnlExpr("meta")
        expr.set(NFTNL_EXPR_META_KEY, u32: key.rawValue)
        expr.set(NFTNL_EXPR_META_DREG, u32: register)
        return expr
    }

    /// `[ ct load state => reg 1 ]`
    static func ctState() throws(KernelError) -> NftnlExpr {
        let expr = try NftnlExpr("ct")
        expr.set(NFTNL_EXPR_CT_KEY, u32: NFT_CT_STATE.rawValue)
        expr.set(NFTNL_EXPR_CT_DREG, u32: register1)
        return expr
    }

    /// `[ cmp OP reg 1 DATA ]`
    static func cmp(_ op: nft_cmp_ops, _ data: [UInt8]) throws(KernelError) -> NftnlExpr {
        let expr = try NftnlExpr("cmp")
        expr.set(NFTNL_EXPR_CMP_SREG, u32: register1)
        expr.set(NFTNL_EXPR_CMP_OP, u32: op.rawValue)
        expr.set(NFTNL_EXPR_CMP_DATA, bytes: data)
        return expr
    }

    /// `[ range eq reg 1 FROM TO ]`
    static func range(_ from: [UInt8], _ to: [UInt8]) throws(KernelError) -> NftnlExpr {
        let expr = try NftnlExpr("range")
        expr.set(NFTNL_EXPR_RANGE_SREG, u32: register1)
        expr.set(NFTNL_EXPR_RANGE_OP, u32: NFT_RANGE_EQ.rawValue)
        expr.set(NFTNL_EXPR_RANGE_FROM_DATA, bytes: from)
        expr.set(NFTNL_EXPR_RANGE_TO_DATA, bytes: to)
        return expr
    }

    /// `[ bitwise reg 1 = ( reg 1 & MASK ) ^ XOR ]`
    static func bitwise(mask: [UInt8], xor: [UInt8]) throws(KernelError) -> NftnlExpr {
        let expr = try NftnlExpr("bitwise")
        expr.set(NFTNL_EXPR_BITWISE_SREG, u32: register1)
        expr.set(NFTNL_EXPR_BITWISE_DREG, u32: register1)
        expr.set(NFTNL_EXPR_BITWISE_LEN, u32: UInt32(mask.count))
        expr.set(NFTNL_EXPR_BITWISE_MASK, bytes: mask)
        expr.set(NFTNL_EXPR_BITWISE_XOR, bytes: xor)
        return expr
    }

    /// `[ lookup reg 1 set NAME (0x1 when negated) ]`; the set id finds a set added in the same batch.
    /// With `verdictMap`, `[ lookup reg 1 set NAME dreg 0 ]`: the element's verdict becomes the rule's.
    static func lookup(set: String, id: UInt32?, negated: Bool, verdictMap: Bool = false) throws(KernelError) -> NftnlExpr {
        let expr = try NftnlExpr("lookup")
        expr.set(NFTNL_EXPR_LOOKUP_SREG, u32: register1)
        if verdictMap { expr.set(NFTNL_EXPR_LOOKUP_DREG, u32: verdictRegister) }
        expr.set(NFTNL_EXPR_LOOKUP_SET, string: set)
        if let id { expr.set(NFTNL_EXPR_LOOKUP_SET_ID, u32: id) }
        if negated { expr.set(NFTNL_EXPR_LOOKUP_FLAGS, u32: NFT_LOOKUP_F_INV.rawValue) }
        return expr
    }

    /// `[ counter pkts 0 bytes 0 ]`
    static func counter() throws(KernelError) -> NftnlExpr { try NftnlExpr("counter") }

    /// `[ log prefix PREFIX group N ]`
    static func log(group: UInt16, prefix: String) throws(KernelError) -> NftnlExpr {
        let expr = try NftnlExpr("log")
        expr.set(NFTNL_EXPR_LOG_GROUP, u32: UInt32(group))
        if !prefix.isEmpty { expr.set(NFTNL_EXPR_LOG_PREFIX, string: prefix) }
        return expr
    }

    /// `[ immediate reg 0 VERDICT (-> CHAIN) ]`
    static func verdict(_ code: Int32, chain: String? = nil) throws(KernelError) -> NftnlExpr {
        let expr = try NftnlExpr("immediate")
        expr.set(NFTNL_EXPR_IMM_DREG, u32: verdictRegister)
        expr.set(NFTNL_EXPR_IMM_VERDICT, u32: UInt32(bitPattern: code))
        if let chain { expr.set(NFTNL_EXPR_IMM_CHAIN, string: chain) }
        return expr
    }
}

/// Network-order bytes of the values keycard compares.
enum NetworkBytes {
    static func u32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
    }

    static func u16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }

    /// An interface name as the kernel compares it: IFNAMSIZ bytes, NUL padded.
    static func interfaceName(_ name: String) -> [UInt8] {
        var bytes = Array(name.utf8.prefix(15))
        bytes += [UInt8](repeating: 0, count: 16 - bytes.count)
        return bytes
    }
}
