//! Go's gzip at its default level, byte for byte: what Terraform's `base64gzip` encodes.
//!
//! DEFLATE leaves the encoder free to choose matches and block layout, so each compressor
//! writes its own bytes; Terraform's are those of Go's `compress/gzip` over
//! `compress/flate` at level 6, and no Rust compressor (zlib's, miniz's) writes the same.
//! This module re-implements, in Rust, the algorithm of the parts of Go's `compress/flate`
//! that level 6 runs (The Go Authors, BSD licence): the hash-chain matcher with lazy
//! matching (`deflate.go`), the block writer that picks the smallest of a stored, a fixed
//! and a dynamic Huffman block (`huffman_bit_writer.go`), and the length-limited Huffman
//! code builder with its tie-breaking orders (`huffman_code.go`). Every choice that changes
//! the output is kept: the window shift and the rebasing of positions past 16 MiB, the chain
//! and lazy limits, the 4-byte minimum match (DEFLATE allows 3), the 1<<14 tokens per block,
//! the size comparisons and their strictness. What only Go's speed needs (its 48-bit output
//! buffer, bulk hashing) is left out.
//!
//! Terraform calls `Write`, then `Flush`, then `Close`: the flush adds an empty stored
//! block after the data, the close an empty final one. `tests/vectors/terraform-functions.txt`
//! has inputs that exercise each path and each limit above (found by changing the limit here
//! and keeping an input whose bytes then changed); the `.json` holds Terraform's answers.

const WINDOW_SIZE: usize = 1 << 15;
const WINDOW_MASK: usize = WINDOW_SIZE - 1;
/// The shortest match Go emits (DEFLATE allows 3).
const MIN_MATCH: usize = 4;
const MAX_MATCH: usize = 258;
/// What the shortest DEFLATE length and distance are encoded relative to.
const BASE_MATCH_LENGTH: usize = 3;
const BASE_MATCH_OFFSET: usize = 1;
const MAX_BLOCK_TOKENS: usize = 1 << 14;
const MAX_STORE_BLOCK: usize = 65535;
const HASH_BITS: u32 = 17;
const HASH_SIZE: usize = 1 << HASH_BITS;
/// Past this, positions in the hash tables are rebased (so they fit 32 bits).
const MAX_HASH_OFFSET: i64 = 1 << 24;
/// Go's sentinel for "the block started in data already shifted out of the window".
const NO_BLOCK_START: i64 = i32::MAX as i64;

// Level 6 of Go's table: a match this long is not bettered lazily (lazy), one this long ends
// the search (nice), and the chain is followed this far (chain). Its fourth limit ("good", 8:
// search a quarter of the chain once a match is that long) never applies at this level: the
// search always starts from length 3.
const LAZY: usize = 16;
const NICE: usize = 128;
const CHAIN: usize = 128;

const MAX_NUM_LIT: usize = 286;
const OFFSET_CODE_COUNT: usize = 30;
const CODEGEN_CODE_COUNT: usize = 19;
const END_BLOCK: u16 = 256;
const LENGTH_CODES_START: usize = 257;
/// Ends the code-length run list.
const BAD_CODE: u8 = 255;

const LENGTH_EXTRA_BITS: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Each length code's first length, less 3.
const LENGTH_BASE: [u32; 29] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128,
    160, 192, 224, 255,
];
const OFFSET_EXTRA_BITS: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// Each distance code's first distance, less 1.
const OFFSET_BASE: [u32; 30] = [
    0x0000, 0x0001, 0x0002, 0x0003, 0x0004, 0x0006, 0x0008, 0x000c, 0x0010, 0x0018, 0x0020, 0x0030,
    0x0040, 0x0060, 0x0080, 0x00c0, 0x0100, 0x0180, 0x0200, 0x0300, 0x0400, 0x0600, 0x0800, 0x0c00,
    0x1000, 0x1800, 0x2000, 0x3000, 0x4000, 0x6000,
];
/// The order RFC 1951 writes the code-length code's lengths in.
const CODEGEN_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// `data` gzipped as Terraform's `base64gzip` does before its base64: Go's `gzip.Writer` at
/// the default level (no name, no time, OS 255), written once, flushed, closed.
pub(super) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut d = Deflater::new();
    d.w.out
        .extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    d.write(data);
    d.finish(false);
    d.finish(true);
    let mut out = d.w.out;
    out.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
    // ISIZE is the length modulo 2^32 (RFC 1952).
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// An LZ77 token: a literal byte (or the end-of-block symbol), or a match as
/// (length - 3, distance - 1).
#[derive(Clone, Copy)]
enum Token {
    Literal(u16),
    Match(u32, u32),
}

/// The length code (0-based, from 257) of a match length less 3.
fn length_code(xlength: u32) -> usize {
    LENGTH_BASE.iter().rposition(|&b| b <= xlength).unwrap_or(0)
}

/// The distance code of a distance less 1.
fn offset_code(xoffset: u32) -> usize {
    OFFSET_BASE.iter().rposition(|&b| b <= xoffset).unwrap_or(0)
}

/// Go's `hash4`: the first four bytes, big-endian, multiplied and kept to 17 bits.
fn hash4(b: &[u8]) -> usize {
    let v = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (v.wrapping_mul(0x1e35_a7bd) >> (32 - HASH_BITS)) as usize
}

/// The compressor's state: a window of two 32 KiB halves, hash chains over it, the tokens
/// of the block being built.
struct Deflater {
    w: BitWriter,
    window: Vec<u8>,
    window_end: usize,
    /// The next position to look for a match at.
    index: usize,
    /// Where the current block's input starts in the window ([`NO_BLOCK_START`]: shifted out).
    block_start: i64,
    /// Whether `window[index - 1]` still waits to be emitted (lazy matching).
    byte_available: bool,
    tokens: Vec<Token>,
    /// The match found at the previous position, carried to the next for lazy matching.
    length: usize,
    offset: usize,
    /// The chain head read at the last position hashed; kept between positions as Go keeps
    /// it, since a position too near the end is not hashed.
    chain_head: i64,
    /// Per hash, the latest position plus `hash_offset` (0: none).
    hash_head: Vec<u32>,
    /// Per position in the window, the previous position with its hash plus `hash_offset`.
    hash_prev: Vec<u32>,
    hash_offset: i64,
    max_insert_index: i64,
    /// Flushing: compress to the end of the input instead of keeping a lookahead.
    sync: bool,
}

impl Deflater {
    fn new() -> Deflater {
        Deflater {
            w: BitWriter::new(),
            window: vec![0; 2 * WINDOW_SIZE],
            window_end: 0,
            index: 0,
            block_start: 0,
            byte_available: false,
            tokens: Vec::with_capacity(MAX_BLOCK_TOKENS + 1),
            length: MIN_MATCH - 1,
            offset: 0,
            chain_head: -1,
            hash_head: vec![0; HASH_SIZE],
            hash_prev: vec![0; WINDOW_SIZE],
            hash_offset: 1,
            max_insert_index: 0,
            sync: false,
        }
    }

    /// Go's `Write`: compress what the window holds, then refill it, until `data` is in.
    fn write(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            self.deflate();
            let n = self.fill(data);
            data = &data[n..];
        }
    }

    /// Go's `Flush` (`last` false: an empty stored block ends the output on a byte) or
    /// `Close` (`last`: an empty final stored block).
    fn finish(&mut self, last: bool) {
        self.sync = true;
        self.deflate();
        self.w.write_stored_header(0, last);
        self.w.flush();
        self.sync = false;
    }

    /// Copies as much of `data` as fits into the window, first sliding the window down by
    /// half once the lookahead has reached its end.
    fn fill(&mut self, data: &[u8]) -> usize {
        if self.index >= 2 * WINDOW_SIZE - (MIN_MATCH + MAX_MATCH) {
            self.window.copy_within(WINDOW_SIZE..2 * WINDOW_SIZE, 0);
            self.index -= WINDOW_SIZE;
            self.window_end -= WINDOW_SIZE;
            if self.block_start >= WINDOW_SIZE as i64 {
                self.block_start -= WINDOW_SIZE as i64;
            } else {
                self.block_start = NO_BLOCK_START;
            }
            self.hash_offset += WINDOW_SIZE as i64;
            if self.hash_offset > MAX_HASH_OFFSET {
                let delta = self.hash_offset - 1;
                self.hash_offset -= delta;
                self.chain_head -= delta;
                for v in self.hash_prev.iter_mut().chain(self.hash_head.iter_mut()) {
                    *v = if i64::from(*v) > delta {
                        (i64::from(*v) - delta) as u32
                    } else {
                        0
                    };
                }
            }
        }
        let n = data.len().min(self.window.len() - self.window_end);
        self.window[self.window_end..self.window_end + n].copy_from_slice(&data[..n]);
        self.window_end += n;
        n
    }

    /// Writes the tokens so far as a block whose input ends at `index`.
    fn write_block(&mut self, index: usize) {
        if index > 0 {
            let input = (self.block_start <= index as i64)
                .then(|| &self.window[self.block_start as usize..index]);
            self.w.write_block(&self.tokens, false, input);
            self.block_start = index as i64;
        }
        self.tokens.clear();
    }

    /// Records position `index` in the hash chains.
    fn insert(&mut self, index: usize) -> i64 {
        let h = hash4(&self.window[index..]);
        let head = i64::from(self.hash_head[h]);
        self.hash_prev[index & WINDOW_MASK] = head as u32;
        self.hash_head[h] = (index as i64 + self.hash_offset) as u32;
        head
    }

    /// Go's `deflate` at a level with lazy matching: a match found at one position is
    /// emitted only if the next position's is no longer.
    fn deflate(&mut self) {
        if self.window_end - self.index < MIN_MATCH + MAX_MATCH && !self.sync {
            return;
        }
        self.max_insert_index = self.window_end as i64 - (MIN_MATCH as i64 - 1);
        loop {
            let lookahead = self.window_end - self.index;
            if lookahead < MIN_MATCH + MAX_MATCH {
                if !self.sync {
                    break;
                }
                if lookahead == 0 {
                    if self.byte_available {
                        let b = self.window[self.index - 1];
                        self.tokens.push(Token::Literal(u16::from(b)));
                        self.byte_available = false;
                    }
                    if !self.tokens.is_empty() {
                        self.write_block(self.index);
                    }
                    break;
                }
            }
            if (self.index as i64) < self.max_insert_index {
                self.chain_head = self.insert(self.index);
            }
            let prev_length = self.length;
            let prev_offset = self.offset;
            self.length = MIN_MATCH - 1;
            self.offset = 0;
            let min_index = (self.index as i64 - WINDOW_SIZE as i64).max(0);
            if self.chain_head - self.hash_offset >= min_index
                && lookahead > prev_length
                && prev_length < LAZY
                && let Some((length, offset)) =
                    self.find_match(self.index, self.chain_head - self.hash_offset, lookahead)
            {
                self.length = length;
                self.offset = offset;
            }
            if prev_length >= MIN_MATCH && self.length <= prev_length {
                // The previous position's match is at least as long: emit it, and hash
                // every position it covers (this one is already hashed).
                self.tokens.push(Token::Match(
                    (prev_length - BASE_MATCH_LENGTH) as u32,
                    (prev_offset - BASE_MATCH_OFFSET) as u32,
                ));
                let end = self.index + prev_length - 1;
                self.index += 1;
                while self.index < end {
                    if (self.index as i64) < self.max_insert_index {
                        self.insert(self.index);
                    }
                    self.index += 1;
                }
                self.byte_available = false;
                self.length = MIN_MATCH - 1;
                if self.tokens.len() == MAX_BLOCK_TOKENS {
                    self.write_block(self.index);
                }
            } else {
                if self.byte_available {
                    let i = self.index - 1;
                    self.tokens.push(Token::Literal(u16::from(self.window[i])));
                    if self.tokens.len() == MAX_BLOCK_TOKENS {
                        self.write_block(i + 1);
                    }
                }
                self.index += 1;
                self.byte_available = true;
            }
        }
    }

    /// The longest match at `pos` (of 4 bytes or more), following the hash chain from `head`:
    /// (length, distance). The first found of a length wins; a 4-byte match counts only
    /// within 4096 bytes.
    fn find_match(&self, pos: usize, head: i64, lookahead: usize) -> Option<(usize, usize)> {
        let max_look = MAX_MATCH.min(lookahead);
        let win = &self.window[..pos + max_look];
        let nice = (win.len() - pos).min(NICE);
        let mut tries = CHAIN;
        let mut length = MIN_MATCH - 1;
        let mut w_end = win[pos + length];
        let w_pos = &win[pos..];
        let min_index = pos as i64 - WINDOW_SIZE as i64;
        let mut found = None;
        let mut i = head;
        while tries > 0 {
            let iu = i as usize;
            if w_end == win[iu + length] {
                let n = win[iu..iu + max_look]
                    .iter()
                    .zip(&w_pos[..max_look])
                    .take_while(|(a, b)| a == b)
                    .count();
                if n > length && (n > MIN_MATCH || pos - iu <= 4096) {
                    length = n;
                    found = Some((n, pos - iu));
                    if n >= nice {
                        break;
                    }
                    w_end = win[pos + n];
                }
            }
            if i == min_index {
                // The slot for `i` in `hash_prev` already holds a newer position.
                break;
            }
            i = i64::from(self.hash_prev[iu & WINDOW_MASK]) - self.hash_offset;
            if i < min_index || i < 0 {
                break;
            }
            tries -= 1;
        }
        found
    }
}

/// A Huffman code: per symbol, its code (bit-reversed, as DEFLATE writes it) and length.
struct Code {
    code: Vec<u16>,
    len: Vec<u16>,
}

impl Code {
    fn new(size: usize) -> Code {
        Code {
            code: vec![0; size],
            len: vec![0; size],
        }
    }

    /// The fixed literal/length code of RFC 1951 3.2.6.
    fn fixed_literal() -> Code {
        let mut c = Code::new(MAX_NUM_LIT);
        for ch in 0..MAX_NUM_LIT as u16 {
            let (bits, size) = match ch {
                0..144 => (ch + 48, 8),
                144..256 => (ch + 400 - 144, 9),
                256..280 => (ch - 256, 7),
                _ => (ch + 192 - 280, 8),
            };
            c.code[usize::from(ch)] = reverse(bits, size);
            c.len[usize::from(ch)] = size;
        }
        c
    }

    /// The fixed distance code: 5 bits each.
    fn fixed_offset() -> Code {
        let mut c = Code::new(OFFSET_CODE_COUNT);
        for i in 0..OFFSET_CODE_COUNT {
            c.code[i] = reverse(i as u16, 5);
            c.len[i] = 5;
        }
        c
    }

    /// The bits `freq`'s symbols take in this code.
    fn bit_length(&self, freq: &[i32]) -> i64 {
        freq.iter()
            .zip(&self.len)
            .map(|(&f, &l)| i64::from(f) * i64::from(l))
            .sum()
    }

    /// Go's `huffmanEncoder.generate`: a code for `freq` no longer than `max_bits`. The
    /// symbols are ranked by (frequency, symbol); lengths come from the package-merge
    /// count per level, and the symbols of one length get consecutive codes in symbol
    /// order.
    fn generate(&mut self, freq: &[i32], max_bits: i32) {
        let mut list: Vec<(u16, i32)> = Vec::with_capacity(freq.len());
        for (i, &f) in freq.iter().enumerate() {
            if f != 0 {
                list.push((i as u16, f));
            } else {
                self.len[i] = 0;
            }
        }
        if list.len() <= 2 {
            // With one or two symbols every symbol takes one bit.
            for (i, &(lit, _)) in list.iter().enumerate() {
                self.code[usize::from(lit)] = i as u16;
                self.len[usize::from(lit)] = 1;
            }
            return;
        }
        list.sort_by_key(|&(lit, f)| (f, lit));
        let counts = bit_counts(&list, max_bits);
        let mut code: u16 = 0;
        let mut rest = &list[..];
        for (n, &bits) in counts.iter().enumerate() {
            code = code.wrapping_shl(1);
            if n == 0 || bits == 0 {
                continue;
            }
            // The `bits` most frequent symbols left take `n` bits.
            let split = rest.len() - bits as usize;
            let mut chunk = rest[split..].to_vec();
            chunk.sort_by_key(|&(lit, _)| lit);
            for (lit, _) in chunk {
                self.code[usize::from(lit)] = reverse(code, n as u16);
                self.len[usize::from(lit)] = n as u16;
                code = code.wrapping_add(1);
            }
            rest = &rest[..split];
        }
    }
}

/// `number`'s low `len` bits in reverse order.
fn reverse(number: u16, len: u16) -> u16 {
    (number << (16 - len)).reverse_bits()
}

/// One level of the package-merge computation in [`bit_counts`].
#[derive(Clone, Copy, Default)]
struct Level {
    /// The frequency of the last node at this level.
    last_freq: i32,
    /// The frequency of the next symbol this level would take.
    next_char_freq: i32,
    /// The frequency of the next pair from the level below.
    next_pair_freq: i32,
    /// How many more nodes this level must produce before moving up.
    needed: i32,
}

/// Go's `bitCounts`: for `list` (at least 3 symbols, by increasing frequency), how many
/// symbols take each length from 1 to `max_bits` (index 0 unused).
fn bit_counts(list: &[(u16, i32)], max_bits: i32) -> Vec<i32> {
    const LIMIT: usize = 16;
    let n = list.len() as i32;
    let freq_at = |k: i32| list.get(k as usize).map_or(i32::MAX, |&(_, f)| f);
    let max_bits = max_bits.min(n - 1) as usize;
    // Level 0 is a placeholder whose `needed` stays 0. One spare level past the top, where
    // Go would index out of bounds, is never reached either.
    let mut levels = [Level::default(); LIMIT + 1];
    // leaf_counts[i][j]: the symbols left of level i's rightmost node's level-j ancestor.
    let mut leaf_counts = [[0i32; LIMIT]; LIMIT];
    for level in 1..=max_bits {
        levels[level] = Level {
            last_freq: list[1].1,
            next_char_freq: list[2].1,
            next_pair_freq: if level == 1 {
                i32::MAX
            } else {
                list[0].1 + list[1].1
            },
            needed: 0,
        };
        leaf_counts[level][level] = 2;
    }
    levels[max_bits].needed = 2 * n - 4;
    let mut level = max_bits;
    loop {
        if levels[level].next_pair_freq == i32::MAX && levels[level].next_char_freq == i32::MAX {
            // Out of symbols and pairs: this level is done, and so are those below.
            levels[level].needed = 0;
            levels[level + 1].next_pair_freq = i32::MAX;
            level += 1;
            continue;
        }
        let prev_freq = levels[level].last_freq;
        if levels[level].next_char_freq < levels[level].next_pair_freq {
            let k = leaf_counts[level][level] + 1;
            levels[level].last_freq = levels[level].next_char_freq;
            leaf_counts[level][level] = k;
            levels[level].next_char_freq = freq_at(k);
        } else {
            levels[level].last_freq = levels[level].next_pair_freq;
            let below = leaf_counts[level - 1];
            leaf_counts[level][..level].copy_from_slice(&below[..level]);
            levels[level - 1].needed = 2;
        }
        levels[level].needed -= 1;
        if levels[level].needed == 0 {
            if level == max_bits {
                break;
            }
            levels[level + 1].next_pair_freq = prev_freq.wrapping_add(levels[level].last_freq);
            level += 1;
        } else {
            while levels[level - 1].needed > 0 {
                level -= 1;
            }
        }
    }
    let mut counts = vec![0; max_bits + 1];
    let top = &leaf_counts[max_bits];
    for (bits, level) in (1..=max_bits).zip((1..=max_bits).rev()) {
        counts[bits] = top[level] - top[level - 1];
    }
    counts
}

/// The run-length encoding of the concatenated code lengths (RFC 1951 3.2.7), as Go
/// builds it: symbols 0-15, and 16/17/18 each followed by its repeat count; ends with
/// [`BAD_CODE`]. Also the frequency of each of the 19 symbols.
fn codegen(lit: &Code, num_lit: usize, off: &Code, num_off: usize) -> (Vec<u8>, [i32; 19]) {
    let mut lens: Vec<u8> = lit.len[..num_lit]
        .iter()
        .chain(&off.len[..num_off])
        .map(|&l| l as u8)
        .collect();
    lens.push(BAD_CODE);
    let mut out = Vec::new();
    let mut freq = [0i32; CODEGEN_CODE_COUNT];
    let mut size = lens[0];
    let mut count: i32 = 1;
    let mut next_index = 1;
    while size != BAD_CODE {
        let next = lens[next_index];
        next_index += 1;
        if next == size {
            count += 1;
            continue;
        }
        if size != 0 {
            out.push(size);
            freq[usize::from(size)] += 1;
            count -= 1;
            while count >= 3 {
                let n = count.min(6);
                out.extend_from_slice(&[16, (n - 3) as u8]);
                freq[16] += 1;
                count -= n;
            }
        } else {
            while count >= 11 {
                let n = count.min(138);
                out.extend_from_slice(&[18, (n - 11) as u8]);
                freq[18] += 1;
                count -= n;
            }
            if count >= 3 {
                out.extend_from_slice(&[17, (count - 3) as u8]);
                freq[17] += 1;
                count = 0;
            }
        }
        for _ in 0..count.max(0) {
            out.push(size);
            freq[usize::from(size)] += 1;
        }
        size = next;
        count = 1;
    }
    out.push(BAD_CODE);
    (out, freq)
}

/// DEFLATE's bit stream (least significant bit first) and Go's block encoder.
struct BitWriter {
    out: Vec<u8>,
    bits: u64,
    nbits: u32,
    literal_freq: Vec<i32>,
    offset_freq: Vec<i32>,
    literal: Code,
    offset: Code,
    codegen: Code,
}

impl BitWriter {
    fn new() -> BitWriter {
        BitWriter {
            out: Vec::new(),
            bits: 0,
            nbits: 0,
            literal_freq: vec![0; MAX_NUM_LIT],
            offset_freq: vec![0; OFFSET_CODE_COUNT],
            literal: Code::new(MAX_NUM_LIT),
            offset: Code::new(OFFSET_CODE_COUNT),
            codegen: Code::new(CODEGEN_CODE_COUNT),
        }
    }

    fn write_bits(&mut self, value: u32, n: u32) {
        self.bits |= u64::from(value) << self.nbits;
        self.nbits += n;
        while self.nbits >= 8 {
            self.out.push(self.bits as u8);
            self.bits >>= 8;
            self.nbits -= 8;
        }
    }

    fn write_code(&mut self, code: &Code, symbol: usize) {
        self.write_bits(u32::from(code.code[symbol]), u32::from(code.len[symbol]));
    }

    /// Pads to a byte boundary.
    fn flush(&mut self) {
        if self.nbits > 0 {
            self.out.push(self.bits as u8);
        }
        self.bits = 0;
        self.nbits = 0;
    }

    fn write_stored_header(&mut self, length: usize, last: bool) {
        self.write_bits(u32::from(last), 3);
        self.flush();
        self.write_bits(length as u32, 16);
        self.write_bits(u32::from(!(length as u16)), 16);
    }

    /// Go's `writeBlock`: `tokens` as the smallest of a fixed-code block, a dynamic-code
    /// block or (when `input` is known and short enough) a stored block, ties going to the
    /// fixed code and then to a Huffman block.
    fn write_block(&mut self, tokens: &[Token], last: bool, input: Option<&[u8]>) {
        let (num_lit, num_off) = self.index_tokens(tokens);
        let stored = input.filter(|i| i.len() <= MAX_STORE_BLOCK);
        // The extra bits of lengths and distances are the same in both Huffman encodings;
        // Go counts them only when a stored block competes.
        let mut extra_bits: i64 = 0;
        if stored.is_some() {
            let lengths = self.literal_freq[LENGTH_CODES_START..num_lit]
                .iter()
                .zip(LENGTH_EXTRA_BITS);
            let offsets = self.offset_freq[..num_off].iter().zip(OFFSET_EXTRA_BITS);
            extra_bits = lengths
                .chain(offsets)
                .map(|(&f, extra)| i64::from(f) * i64::from(extra))
                .sum();
        }
        let fixed_lit = Code::fixed_literal();
        let fixed_off = Code::fixed_offset();
        let fixed_size = 3
            + fixed_lit.bit_length(&self.literal_freq)
            + fixed_off.bit_length(&self.offset_freq)
            + extra_bits;

        let (codegen, codegen_freq) = codegen(&self.literal, num_lit, &self.offset, num_off);
        self.codegen.generate(&codegen_freq, 7);
        let mut num_codegens = CODEGEN_CODE_COUNT;
        while num_codegens > 4 && codegen_freq[CODEGEN_ORDER[num_codegens - 1]] == 0 {
            num_codegens -= 1;
        }
        let header = 3
            + 5
            + 5
            + 4
            + 3 * num_codegens as i64
            + self.codegen.bit_length(&codegen_freq)
            + i64::from(codegen_freq[16]) * 2
            + i64::from(codegen_freq[17]) * 3
            + i64::from(codegen_freq[18]) * 7;
        let dynamic_size = header
            + self.literal.bit_length(&self.literal_freq)
            + self.offset.bit_length(&self.offset_freq)
            + extra_bits;
        let dynamic = dynamic_size < fixed_size;
        let size = if dynamic { dynamic_size } else { fixed_size };

        if let Some(input) = stored
            && ((input.len() as i64 + 5) * 8) < size
        {
            self.write_stored_header(input.len(), last);
            self.out.extend_from_slice(input);
            return;
        }
        if dynamic {
            self.write_dynamic_header(num_lit, num_off, num_codegens, &codegen, last);
            let literal = std::mem::replace(&mut self.literal, Code::new(0));
            let offset = std::mem::replace(&mut self.offset, Code::new(0));
            self.write_tokens(tokens, &literal, &offset);
            self.literal = literal;
            self.offset = offset;
        } else {
            self.write_bits(2 | u32::from(last), 3);
            self.write_tokens(tokens, &fixed_lit, &fixed_off);
        }
    }

    /// Counts the symbols of `tokens` plus an end of block, and builds the block's dynamic
    /// codes; the numbers of literal/length and distance codes the header declares. A block
    /// without matches still declares one distance code, counted as used once.
    fn index_tokens(&mut self, tokens: &[Token]) -> (usize, usize) {
        self.literal_freq.fill(0);
        self.offset_freq.fill(0);
        for t in tokens {
            match *t {
                Token::Literal(b) => self.literal_freq[usize::from(b)] += 1,
                Token::Match(length, offset) => {
                    self.literal_freq[LENGTH_CODES_START + length_code(length)] += 1;
                    self.offset_freq[offset_code(offset)] += 1;
                }
            }
        }
        self.literal_freq[usize::from(END_BLOCK)] += 1;
        let mut num_lit = MAX_NUM_LIT;
        while self.literal_freq[num_lit - 1] == 0 {
            num_lit -= 1;
        }
        let mut num_off = OFFSET_CODE_COUNT;
        while num_off > 0 && self.offset_freq[num_off - 1] == 0 {
            num_off -= 1;
        }
        if num_off == 0 {
            self.offset_freq[0] = 1;
            num_off = 1;
        }
        self.literal.generate(&self.literal_freq, 15);
        self.offset.generate(&self.offset_freq, 15);
        (num_lit, num_off)
    }

    fn write_dynamic_header(
        &mut self,
        num_lit: usize,
        num_off: usize,
        num_codegens: usize,
        codegen: &[u8],
        last: bool,
    ) {
        self.write_bits(4 | u32::from(last), 3);
        self.write_bits((num_lit - 257) as u32, 5);
        self.write_bits((num_off - 1) as u32, 5);
        self.write_bits((num_codegens - 4) as u32, 4);
        for &symbol in &CODEGEN_ORDER[..num_codegens] {
            let len = self.codegen.len[symbol];
            self.write_bits(u32::from(len), 3);
        }
        let cg = std::mem::replace(&mut self.codegen, Code::new(0));
        let mut i = 0;
        while codegen[i] != BAD_CODE {
            let symbol = codegen[i];
            i += 1;
            self.write_code(&cg, usize::from(symbol));
            let extra = match symbol {
                16 => 2,
                17 => 3,
                18 => 7,
                _ => 0,
            };
            if extra > 0 {
                self.write_bits(u32::from(codegen[i]), extra);
                i += 1;
            }
        }
        self.codegen = cg;
    }

    fn write_tokens(&mut self, tokens: &[Token], lit: &Code, off: &Code) {
        for t in tokens.iter().chain(&[Token::Literal(END_BLOCK)]) {
            match *t {
                Token::Literal(b) => self.write_code(lit, usize::from(b)),
                Token::Match(length, offset) => {
                    let lc = length_code(length);
                    self.write_code(lit, LENGTH_CODES_START + lc);
                    let extra = u32::from(LENGTH_EXTRA_BITS[lc]);
                    if extra > 0 {
                        self.write_bits(length - LENGTH_BASE[lc], extra);
                    }
                    let oc = offset_code(offset);
                    self.write_code(off, oc);
                    let extra = u32::from(OFFSET_EXTRA_BITS[oc]);
                    if extra > 0 {
                        self.write_bits(offset - OFFSET_BASE[oc], extra);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A plain DEFLATE decoder (RFC 1951), to check that what [`gzip`] writes decodes to its
    /// input: no inflate crate is in the dependency tree, and Terraform's vectors only cover
    /// the inputs recorded.
    fn inflate(data: &[u8]) -> Vec<u8> {
        struct Bits<'a>(&'a [u8], usize);
        impl Bits<'_> {
            fn take(&mut self, n: usize) -> usize {
                let mut v = 0;
                for i in 0..n {
                    v |= usize::from(self.0[self.1 >> 3] >> (self.1 & 7) & 1) << i;
                    self.1 += 1;
                }
                v
            }
            /// One symbol of a canonical code, given as its count of codes per length and
            /// its symbols in code order.
            fn symbol(&mut self, (counts, symbols): &([usize; 16], Vec<usize>)) -> usize {
                let (mut code, mut first, mut index) = (0, 0, 0);
                for &count in &counts[1..] {
                    code |= self.take(1);
                    if code < first + count {
                        return symbols[index + code - first];
                    }
                    index += count;
                    first = (first + count) << 1;
                    code <<= 1;
                }
                panic!("bad code")
            }
        }
        /// The canonical code with these lengths, in the form `symbol` reads.
        fn canonical(lens: &[usize]) -> ([usize; 16], Vec<usize>) {
            let mut counts = [0; 16];
            for &l in lens {
                counts[l] += 1;
            }
            counts[0] = 0;
            let mut symbols: Vec<usize> = (0..lens.len()).filter(|&s| lens[s] != 0).collect();
            symbols.sort_by_key(|&s| lens[s]);
            (counts, symbols)
        }
        let mut b = Bits(data, 0);
        let mut out = Vec::new();
        loop {
            let last = b.take(1) == 1;
            match b.take(2) {
                0 => {
                    b.1 = b.1.div_ceil(8) * 8;
                    let len = b.take(16);
                    assert_eq!(b.take(16), !len & 0xffff);
                    out.extend_from_slice(&data[b.1 / 8..b.1 / 8 + len]);
                    b.1 += 8 * len;
                }
                kind => {
                    let (lit, dist) = if kind == 1 {
                        let lit: Vec<usize> = (0..288)
                            .map(|s| match s {
                                0..144 => 8,
                                144..256 => 9,
                                256..280 => 7,
                                _ => 8,
                            })
                            .collect();
                        (lit, vec![5; 30])
                    } else {
                        let (hlit, hdist, hclen) = (b.take(5) + 257, b.take(5) + 1, b.take(4) + 4);
                        let mut cl = [0; 19];
                        for &s in &CODEGEN_ORDER[..hclen] {
                            cl[s] = b.take(3);
                        }
                        let cl = canonical(&cl);
                        let mut lens: Vec<usize> = Vec::new();
                        while lens.len() < hlit + hdist {
                            match b.symbol(&cl) {
                                s @ 0..16 => lens.push(s),
                                16 => {
                                    let prev = *lens.last().unwrap();
                                    let n = 3 + b.take(2);
                                    lens.extend(std::iter::repeat_n(prev, n));
                                }
                                17 => {
                                    let n = 3 + b.take(3);
                                    lens.extend(std::iter::repeat_n(0, n));
                                }
                                _ => {
                                    let n = 11 + b.take(7);
                                    lens.extend(std::iter::repeat_n(0, n));
                                }
                            }
                        }
                        (lens[..hlit].to_vec(), lens[hlit..].to_vec())
                    };
                    let (lit, dist) = (canonical(&lit), canonical(&dist));
                    loop {
                        let s = b.symbol(&lit);
                        if s < 256 {
                            out.push(s as u8);
                        } else if s == 256 {
                            break;
                        } else {
                            let c = s - 257;
                            let len = LENGTH_BASE[c] as usize
                                + BASE_MATCH_LENGTH
                                + b.take(usize::from(LENGTH_EXTRA_BITS[c]));
                            let d = b.symbol(&dist);
                            let distance = OFFSET_BASE[d] as usize
                                + BASE_MATCH_OFFSET
                                + b.take(usize::from(OFFSET_EXTRA_BITS[d]));
                            for _ in 0..len {
                                out.push(out[out.len() - distance]);
                            }
                        }
                    }
                }
            }
            if last {
                return out;
            }
        }
    }

    /// The gzip member decoded, its trailer checked.
    fn gunzip(gz: &[u8]) -> Vec<u8> {
        assert_eq!(gz[..10], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        let out = inflate(&gz[10..gz.len() - 8]);
        let trailer = &gz[gz.len() - 8..];
        assert_eq!(trailer[..4], crc32fast::hash(&out).to_le_bytes());
        assert_eq!(trailer[4..], (out.len() as u32).to_le_bytes());
        out
    }

    #[test]
    fn round_trip_over_blocks_and_window_shifts() {
        // Over 64 KiB (the window slides), over 1<<14 tokens (several blocks), text that
        // compresses and bytes that barely do.
        let text: Vec<u8> = (0..40_000u32)
            .flat_map(|i| format!("{} ", i * 7 % 1000).into_bytes())
            .collect();
        let noise: Vec<u8> = (0..150_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for input in [text, noise, vec![0; 300_000]] {
            assert_eq!(gunzip(&gzip(&input)), input);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn round_trip(
            input in proptest::collection::vec(
                prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()],
                0..3000,
            ),
        ) {
            prop_assert_eq!(gunzip(&gzip(&input)), input);
        }
    }

    /// What `terraform console` printed for `base64gzip("")` and `base64gzip("a")`,
    /// decoded: the header, the flush's empty stored block and the close's final one.
    #[test]
    fn empty_and_one_byte() {
        assert_eq!(
            gzip(b""),
            [
                0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff, 0,
                0, 0, 0, 0, 0, 0, 0
            ]
        );
        assert_eq!(
            gzip(b"a"),
            [
                0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0x4a, 4, 0, 0, 0, 0xff, 0xff, 1, 0, 0, 0xff,
                0xff, 0x43, 0xbe, 0xb7, 0xe8, 1, 0, 0, 0
            ]
        );
    }
}
