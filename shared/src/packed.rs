//! The bit-packed wire form of a snapshot's update list (`delta::Updates`).
//!
//! Most of a busy snapshot is updates: entities with consecutive ids whose same few fields
//! moved by a few fixed-point steps. Byte-aligned varints spend a whole byte on the id gap
//! (usually 1), a byte on the field mask (usually the previous entity's) and a byte on a
//! delta that needs five or six bits. So the list is one bit stream, least significant bit
//! first, padded with zero bits to a whole byte and carried as one byte string:
//!
//! - the entry count, then the column count `C` (one past the highest mask bit used), then
//!   one width `w` (0..=32) per column, chosen by the encoder to make the stream shortest;
//! - per entity: its id gap in Elias gamma (`1` costs one bit; the first gap is id + 1),
//!   one bit that says "the previous entity's mask", else the mask itself, and then per set
//!   mask bit `i`, in ascending order, its delta zigzagged in `w_i` bits — where the value
//!   `2^w_i − 1` escapes to the zigzagged delta in 32 bits (a teleport costs 32 + w bits,
//!   it does not widen the column for everyone). A width of 32 never escapes.
//!
//! Counts and masks are written as a 7-bit bit length and then that many bits. Decoding
//! refuses a zero gap, an id past `u32::MAX`, an empty mask, a mask bit past the columns,
//! a width over 32, a truncated stream and nonzero padding; whether a mask fits the entity
//! is the mirror's check (it has the schema).

use crate::delta::Updates;
use crate::ids::NetId;
use crate::schema::bits as set_bits;

/// Why an update stream was refused.
pub type PackError = &'static str;

/// The widest column: a raw 32-bit zigzagged delta.
const RAW: u32 = 32;

/// Zigzag: small magnitudes of either sign to small unsigned values.
#[must_use]
pub fn zigzag(d: i32) -> u32 {
    ((d << 1) ^ (d >> 31)) as u32
}

fn unzigzag(v: u32) -> i32 {
    ((v >> 1) as i32) ^ -((v & 1) as i32)
}

/// Significant bits of `v` (0 for 0).
fn bit_len(v: u64) -> u32 {
    64 - v.leading_zeros()
}

/// The column width that makes `values` shortest: `hist[l]` values have bit length `l`,
/// `ones[l]` of them are `2^l − 1` (those escape at width `l`).
fn best_width(hist: &[u32; 33], ones: &[u32; 33]) -> u32 {
    let total: u64 = hist.iter().map(|&c| u64::from(c)).sum();
    let mut longer: u64 = total; // values with bit length > w, updated as w grows
    let mut best = (u64::from(RAW) * total, RAW);
    for w in 0..RAW {
        longer -= u64::from(hist[w as usize]);
        let escaped = longer + u64::from(ones[w as usize]);
        let cost = u64::from(w) * total + u64::from(RAW) * escaped;
        if cost < best.0 {
            best = (cost, w);
        }
    }
    best.1
}

/// Packs `updates` into the stream described in the module docs.
#[must_use]
pub fn pack(updates: &Updates) -> Vec<u8> {
    let all_masks = updates.iter().fold(0u64, |acc, (_, mask, _)| acc | mask);
    let columns = bit_len(all_masks) as usize;
    let mut hist = vec![[0u32; 33]; columns];
    let mut ones = vec![[0u32; 33]; columns];
    for (_, mask, deltas) in updates.iter() {
        for (col, &d) in set_bits(mask).zip(deltas) {
            let v = zigzag(d);
            let l = bit_len(u64::from(v)) as usize;
            hist[col][l] += 1;
            if v != 0 && v.count_ones() as usize == l {
                ones[col][l] += 1;
            }
            if v == 0 {
                ones[col][0] += 1;
            }
        }
    }
    let widths: Vec<u32> = hist
        .iter()
        .zip(&ones)
        .map(|(h, o)| best_width(h, o))
        .collect();

    let mut w = BitWriter::with_capacity(updates.len() * 3 + 8);
    w.sized(updates.len() as u64);
    w.bits(columns as u64, 7);
    for &width in &widths {
        w.bits(u64::from(width), 6);
    }
    let mut prev: Option<u32> = None;
    let mut prev_mask = 0u64;
    for (id, mask, deltas) in updates.iter() {
        let gap = match prev {
            None => u64::from(id.0) + 1,
            Some(p) => u64::from(id.0.wrapping_sub(p)),
        };
        w.gamma(gap);
        if mask == prev_mask {
            w.bits(1, 1);
        } else {
            w.bits(0, 1);
            w.sized(mask);
        }
        for (col, &d) in set_bits(mask).zip(deltas) {
            let width = widths[col];
            let v = zigzag(d);
            if width == RAW {
                w.bits(u64::from(v), RAW);
            } else {
                let escape = (1u32 << width) - 1;
                if v < escape {
                    w.bits(u64::from(v), width);
                } else {
                    w.bits(u64::from(escape), width);
                    w.bits(u64::from(v), RAW);
                }
            }
        }
        prev = Some(id.0);
        prev_mask = mask;
    }
    w.finish()
}

/// Unpacks a stream written by `pack`, refusing anything `pack` could not have written.
pub fn unpack(bytes: &[u8]) -> Result<Updates, PackError> {
    let mut r = BitReader::new(bytes);
    let count = r.sized()?;
    // Each entry takes at least two bits, so the count is bounded by the stream's size.
    if count > r.left() / 2 {
        return Err("update count exceeds the stream");
    }
    let columns = r.bits(7)? as usize;
    if columns > 64 {
        return Err("more than 64 update columns");
    }
    let mut widths = [0u32; 64];
    for width in widths.iter_mut().take(columns) {
        *width = r.bits(6)? as u32;
        if *width > RAW {
            return Err("update column wider than 32 bits");
        }
    }
    let mut out = Updates::default();
    let mut prev: Option<u32> = None;
    let mut prev_mask = 0u64;
    let mut deltas = Vec::with_capacity(columns);
    for _ in 0..count {
        let gap = r.gamma()?;
        let id = match prev {
            None => gap.checked_sub(1),
            Some(p) => u64::from(p).checked_add(gap),
        }
        .and_then(|id| u32::try_from(id).ok())
        .ok_or("update ids must be strictly ascending")?;
        let mask = if r.bits(1)? == 1 {
            prev_mask
        } else {
            r.sized()?
        };
        if mask == 0 {
            return Err("empty field mask");
        }
        if bit_len(mask) as usize > columns {
            return Err("field mask past the update columns");
        }
        deltas.clear();
        for col in set_bits(mask) {
            let width = widths[col];
            let mut v = r.bits(width)?;
            if width < RAW && v == (1u64 << width) - 1 {
                v = r.bits(RAW)?;
            }
            deltas.push(unzigzag(v as u32));
        }
        out.push(NetId(id), mask, deltas.iter().copied());
        prev = Some(id);
        prev_mask = mask;
    }
    r.end()?;
    Ok(out)
}

/// Writes bits least significant first.
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    filled: u32,
}

impl BitWriter {
    fn with_capacity(bytes: usize) -> BitWriter {
        BitWriter {
            out: Vec::with_capacity(bytes),
            acc: 0,
            filled: 0,
        }
    }

    /// The low `n` (≤ 64) bits of `v`.
    fn bits(&mut self, v: u64, n: u32) {
        if n == 0 {
            return;
        }
        let v = if n == 64 { v } else { v & ((1u64 << n) - 1) };
        let room = 64 - self.filled;
        if n < room {
            self.acc |= v << self.filled;
            self.filled += n;
            return;
        }
        // Fill the accumulator, flush it, keep the rest.
        self.acc |= v << self.filled;
        self.out.extend_from_slice(&self.acc.to_le_bytes());
        let rest = n - room;
        self.acc = if room == 64 { 0 } else { v >> room };
        self.filled = rest;
    }

    /// A 7-bit bit length, then that many bits.
    fn sized(&mut self, v: u64) {
        let l = bit_len(v);
        self.bits(u64::from(l), 7);
        self.bits(v, l);
    }

    /// Elias gamma of `v` ≥ 1: (length − 1) zero bits, a one, the bits below the top one.
    fn gamma(&mut self, v: u64) {
        debug_assert!(v >= 1);
        let l = bit_len(v);
        self.bits(0, l - 1);
        self.bits(1, 1);
        self.bits(v, l - 1);
    }

    fn finish(mut self) -> Vec<u8> {
        let bytes = self.filled.div_ceil(8) as usize;
        self.out.extend_from_slice(&self.acc.to_le_bytes()[..bytes]);
        self.out
    }
}

/// Reads what `BitWriter` wrote.
struct BitReader<'a> {
    bytes: &'a [u8],
    /// The next bit to read, counted from the stream's start.
    pos: u64,
}

impl<'a> BitReader<'a> {
    fn new(bytes: &'a [u8]) -> BitReader<'a> {
        BitReader { bytes, pos: 0 }
    }

    fn left(&self) -> u64 {
        self.bytes.len() as u64 * 8 - self.pos
    }

    /// `n` (≤ 64) bits.
    fn bits(&mut self, n: u32) -> Result<u64, PackError> {
        if u64::from(n) > self.left() {
            return Err("truncated update stream");
        }
        let mut v = 0u64;
        let mut got = 0u32;
        while got < n {
            let byte = self.bytes[(self.pos / 8) as usize];
            let offset = (self.pos % 8) as u32;
            let take = (8 - offset).min(n - got);
            let chunk = (u64::from(byte) >> offset) & ((1u64 << take) - 1);
            v |= chunk << got;
            got += take;
            self.pos += u64::from(take);
        }
        Ok(v)
    }

    fn sized(&mut self) -> Result<u64, PackError> {
        let l = self.bits(7)? as u32;
        if l > 64 {
            return Err("a value longer than 64 bits");
        }
        let v = self.bits(l)?;
        // A length that overstates the value is not what the writer produces.
        if bit_len(v) != l {
            return Err("a value's length does not match it");
        }
        Ok(v)
    }

    fn gamma(&mut self) -> Result<u64, PackError> {
        let mut zeros = 0u32;
        while self.bits(1)? == 0 {
            zeros += 1;
            // Gaps are at most 2^32 (33 bits).
            if zeros > 32 {
                return Err("update id gap out of range");
            }
        }
        let low = self.bits(zeros)?;
        Ok((1u64 << zeros) | low)
    }

    /// The stream ends here: only zero padding to the end of its last byte.
    fn end(&mut self) -> Result<(), PackError> {
        if self.left() >= 8 {
            return Err("bytes after the update stream");
        }
        let n = self.left() as u32;
        if self.bits(n)? != 0 {
            return Err("nonzero padding after the update stream");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn updates(entries: &[(u32, u64, &[i32])]) -> Updates {
        let mut u = Updates::default();
        for &(id, mask, deltas) in entries {
            u.push(NetId(id), mask, deltas.iter().copied());
        }
        u
    }

    #[test]
    fn round_trips_edges() {
        for u in [
            updates(&[]),
            updates(&[(0, 1, &[0])]),
            updates(&[(u32::MAX, 1, &[i32::MIN])]),
            updates(&[(0, u64::MAX, &[7; 64]), (u32::MAX, 1 << 63, &[i32::MAX])]),
            updates(&[
                (3, 0b111, &[5, -5, 1]),
                (4, 0b111, &[3, 2, -1]),
                (9, 0b101, &[1_000_000, -2]),
            ]),
        ] {
            let bytes = pack(&u);
            assert_eq!(unpack(&bytes), Ok(u.clone()), "{bytes:02x?}");
        }
    }

    #[test]
    fn a_walking_crowd_costs_under_three_bytes_an_entity() {
        // 500 consecutive entities, each moving x and y by up to 27 steps and turning by
        // up to 10: the arena's NPCs.
        let mut u = Updates::default();
        let mut seed = 7u32;
        let mut next = |m: i32| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            ((seed >> 8) % (2 * m as u32 + 1)) as i32 - m
        };
        for id in 100..600 {
            u.push(NetId(id), 0b111, [next(27), next(27), next(10)]);
        }
        let bytes = pack(&u);
        assert!(bytes.len() < 3 * 500, "{} bytes", bytes.len());
        assert_eq!(unpack(&bytes), Ok(u));
    }

    #[test]
    fn an_outlier_escapes_instead_of_widening_its_column() {
        let mut small = Updates::default();
        let mut one_big = Updates::default();
        for id in 0..100 {
            small.push(NetId(id), 1, [3]);
            one_big.push(NetId(id), 1, [if id == 50 { 1 << 30 } else { 3 }]);
        }
        let (a, b) = (pack(&small).len(), pack(&one_big).len());
        assert!(b <= a + 5, "{a} vs {b} bytes");
        assert_eq!(unpack(&pack(&one_big)), Ok(one_big));
    }

    /// A stream of one entry with one 4-bit column and first gap `gap`; `entry` writes
    /// the rest of the entry.
    fn one_entry(gap: u64, entry: impl FnOnce(&mut BitWriter)) -> Vec<u8> {
        let mut w = BitWriter::with_capacity(16);
        w.sized(1);
        w.bits(1, 7);
        w.bits(4, 6);
        w.gamma(gap);
        entry(&mut w);
        w.finish()
    }

    #[test]
    fn refuses_what_pack_never_writes() {
        let good = pack(&updates(&[(1, 0b11, &[1, 2]), (2, 0b11, &[3, 4])]));
        // Every truncation fails.
        for cut in 0..good.len() {
            assert!(unpack(&good[..cut]).is_err(), "cut at {cut}");
        }
        // Trailing bytes and nonzero padding fail.
        let mut longer = good.clone();
        longer.push(0);
        assert!(unpack(&longer).is_err());
        let mut padded = good.clone();
        *padded.last_mut().unwrap() |= 0x80;
        assert!(unpack(&padded).is_err());
        // A first entry that reuses "the previous mask" has an empty one.
        let reused = one_entry(1, |w| w.bits(1, 1));
        assert_eq!(unpack(&reused), Err("empty field mask"));
        // A mask bit past the declared columns.
        let past_columns = one_entry(1, |w| {
            w.bits(0, 1);
            w.sized(0b10);
        });
        assert_eq!(
            unpack(&past_columns),
            Err("field mask past the update columns")
        );
        // An id past u32::MAX; the same stream with the last id decodes.
        let entry = |w: &mut BitWriter| {
            w.bits(0, 1);
            w.sized(1);
            w.bits(0, 4);
        };
        assert_eq!(
            unpack(&one_entry((1 << 32) + 1, entry)),
            Err("update ids must be strictly ascending")
        );
        assert_eq!(
            unpack(&one_entry(1 << 32, entry)),
            Ok(updates(&[(u32::MAX, 1, &[0])]))
        );
    }
}
