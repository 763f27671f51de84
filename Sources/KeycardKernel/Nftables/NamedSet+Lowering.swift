import CNetfilter
import Glibc
import KeycardRuleset

/// One element as the kernel stores it: key bytes plus NFT_SET_ELEM_* flags; for a box of a
/// concatenated interval set the inclusive end (NFTA_SET_ELEM_KEY_END); for a verdict map the
/// verdict code and chain (NFTA_SET_ELEM_DATA).
struct KernelSetElement: Hashable {
    var key: [UInt8]
    var flags: UInt32 = 0
    var keyEnd: [UInt8]? = nil
    var verdict: UInt32? = nil
    var chain: String? = nil
    /// NFTNL_UDATA_SET_ELEM_COMMENT: shown by `nft list`.
    var comment: String? = nil

    /// An upper bound of the element's bytes inside NFTA_SET_ELEM_LIST, for chunking.
    var wireSize: Int {
        16 + 2 * key.count + 8 + (verdict == nil ? 0 : 24 + (chain?.utf8.count ?? 0)) + (comment.map { 12 + $0.utf8.count } ?? 0)
    }

    /// The element as a deletion names it: its key (and end), never its data.
    var keyOnly: KernelSetElement { KernelSetElement(key: key, flags: flags, keyEnd: keyEnd) }

    /// The same element carrying `comment` (clipped to nft's 128-byte limit).
    func commented(_ comment: String?) -> KernelSetElement {
        guard let comment, !comment.isEmpty else { return self }
        var element = self
        element.comment = nftComment(comment)
        return element
    }
}

/// nft's datatype ids (TYPE_IPADDR, TYPE_INET_PROTOCOL, TYPE_INET_SERVICE) and key sizes.
extension KeyField {
    var nftTypeID: UInt32 {
        switch self {
        case .ipv4Address: 7
        case .inetProto: 12
        case .inetService: 13
        }
    }

    var byteLength: Int {
        switch self {
        case .ipv4Address: 4
        case .inetProto: 1
        case .inetService: 2
        }
    }
}

extension NamedSet {
    /// nft's key type: one datatype id, or for a concatenation the ids folded 6 bits at a time.
    var keyType: UInt32 { key.reduce(0) { key.count == 1 ? $1.nftTypeID : $0 << 6 | $1.nftTypeID } }

    /// NFTNL_SET_KEY_LEN: the field's size, or for a concatenation each field padded to 4 bytes.
    var keyLength: UInt32 {
        key.count == 1 ? UInt32(key[0].byteLength) : UInt32(key.count * 4)
    }

    /// Whether this is a concatenated interval set (the kernel's pipapo, NFT_SET_CONCAT).
    var isConcatInterval: Bool { interval && key.count > 1 }

    /// NFTNL_SET_FLAGS: NFT_SET_INTERVAL, plus NFT_SET_CONCAT for a concatenated interval set
    /// (the kernel requires it exactly when NFTA_SET_DESC_CONCAT has more than one field), or
    /// NFT_SET_MAP for a verdict map.
    var kernelFlags: UInt32 {
        var flags: UInt32 = interval ? NFT_SET_INTERVAL.rawValue : 0
        if isConcatInterval { flags |= NFT_SET_CONCAT.rawValue }
        if data == .verdict { flags |= NFT_SET_MAP.rawValue }
        return flags
    }

    /// The NEWSET payload: name, key type and length, flags, set id, key byte order; for a
    /// concatenated interval set the field lengths (NFTNL_SET_DESC_CONCAT, bytes, unpadded); for a
    /// verdict map the data type NFT_DATA_VERDICT with length 0. Never NFTNL_SET_DESC_SIZE, which
    /// would select a fixed-size hash with an element cap.
    func loweredDeclaration(_ context: LoweringContext, id: UInt32) throws(KernelError) -> NftnlSet {
        guard !key.isEmpty, !interval || key.first == .ipv4Address, !(interval && data != nil) else {
            throw KernelError(
                "set declaration", subject: "\(context.table)/\(name): interval sets need an ipv4Address key first and no data",
                errno: EINVAL)
        }
        let set = try NftnlSet()
        set.set(NFTNL_SET_TABLE, string: context.table)
        set.set(NFTNL_SET_NAME, string: name)
        set.set(NFTNL_SET_FAMILY, u32: context.family.nfproto)
        set.set(NFTNL_SET_KEY_TYPE, u32: keyType)
        set.set(NFTNL_SET_KEY_LEN, u32: keyLength)
        set.set(NFTNL_SET_FLAGS, u32: kernelFlags)
        set.set(NFTNL_SET_ID, u32: id)
        if isConcatInterval {
            let fields = key.map { UInt8($0.byteLength) }
            fields.withUnsafeBytes { buffer in
                guard let base = buffer.baseAddress else { return }
                set.set(NFTNL_SET_DESC_CONCAT, data: base, length: UInt32(buffer.count))
            }
        }
        if data == .verdict {
            set.set(NFTNL_SET_DATA_TYPE, u32: NFT_DATA_VERDICT.rawValue)
            set.set(NFTNL_SET_DATA_LEN, u32: 0)
        }
        if key.count == 1 {
            // nft records the key's byte order (2 = big endian, 1 = host) so `nft list` prints values.
            let userData = try NftnlUserData()
            let order: UInt32 = key[0] == .inetProto ? 1 : 2
            if userData.put(UInt8(NFTNL_UDATA_SET_KEYBYTEORDER.rawValue), u32: order) {
                _ = userData.withBytes { set.set(NFTNL_SET_USERDATA, data: $0, length: $1) }
            }
        }
        return set
    }

    /// The kernel elements of `elements`: for interval sets a start element and, unless the range
    /// ends at 255.255.255.255, an end element (key = last + 1, NFT_SET_ELEM_INTERVAL_END).
    /// `comments` adds to the set's own comments (for elements the set does not hold yet).
    func kernelElements(_ elements: [SetElement], table: String, comments extra: [SetElement: String] = [:]) throws(KernelError)
        -> [KernelSetElement]
    {
        var result: [KernelSetElement] = []
        result.reserveCapacity(interval ? elements.count * 2 : elements.count)
        for element in elements {
            if isConcatInterval {
                guard case .box(let from, let to) = element else { throw elementError(element, table) }
                result.append(
                    KernelSetElement(key: try encodeKey(from, element, table), keyEnd: try encodeKey(to, element, table))
                        .commented(extra[element] ?? comments?[element]))
            } else if data == .verdict {
                guard case .mapping(let values, let verdict) = element else { throw elementError(element, table) }
                let (code, chain): (UInt32, String) =
                    switch verdict {
                    case .jump(let chain): (UInt32(bitPattern: NFT_JUMP.rawValue), chain)
                    case .goto(let chain): (UInt32(bitPattern: NFT_GOTO.rawValue), chain)
                    default: throw elementError(element, table)
                    }
                result.append(KernelSetElement(key: try encodeKey(values, element, table), verdict: code, chain: chain))
            } else if interval {
                guard let range = element.ipv4Range else { throw elementError(element, table) }
                result.append(KernelSetElement(key: NetworkBytes.u32(range.lowerBound)))
                if range.upperBound != .max {
                    result.append(KernelSetElement(key: NetworkBytes.u32(range.upperBound + 1), flags: NFT_SET_ELEM_INTERVAL_END.rawValue))
                }
            } else {
                guard case .value(let values) = element else { throw elementError(element, table) }
                result.append(KernelSetElement(key: try encodeKey(values, element, table)).commented(extra[element] ?? comments?[element]))
            }
        }
        return result
    }

    /// The key bytes of one value per field, each field padded to 4 bytes in a concatenation.
    private func encodeKey(_ values: [KeyValue], _ element: SetElement, _ table: String) throws(KernelError) -> [UInt8] {
        guard values.count == key.count else { throw elementError(element, table) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(keyLength))
        for (field, value) in zip(key, values) {
            guard let encoded = encode(value, as: field) else { throw elementError(element, table) }
            bytes += encoded
            if key.count > 1 { bytes += [UInt8](repeating: 0, count: 4 - encoded.count) }
        }
        return bytes
    }

    private func encode(_ value: KeyValue, as field: KeyField) -> [UInt8]? {
        switch (value, field) {
        case (.ipv4(let address), .ipv4Address): NetworkBytes.u32(address)
        case (.proto(let number), .inetProto): [number]
        case (.port(let port), .inetService): NetworkBytes.u16(port)
        default: nil
        }
    }

    private func elementError(_ element: SetElement, _ table: String) -> KernelError {
        KernelError("set element", subject: "\(table)/\(name): \(element.nftText) does not fit the key", errno: EINVAL)
    }
}

/// A NEWSETELEM/DELSETELEM payload: up to one chunk of elements of one set.
///
/// All elements of a message sit in one nested attribute with a 16-bit length that libnftnl does
/// not check: above a few thousand elements the kernel silently gets fewer. So callers chunk.
func setElementPayload(
    set name: String, id: UInt32?, _ context: LoweringContext, elements: ArraySlice<KernelSetElement>
) throws(KernelError) -> NftnlSet {
    let set = try NftnlSet()
    set.set(NFTNL_SET_TABLE, string: context.table)
    set.set(NFTNL_SET_NAME, string: name)
    set.set(NFTNL_SET_FAMILY, u32: context.family.nfproto)
    if let id { set.set(NFTNL_SET_ID, u32: id) }
    for element in elements {
        try set.add(element)
    }
    return set
}
