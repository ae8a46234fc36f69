//! The trainers' seeded generator (xorshift64): shuffles and initial weights that repeat
//! from run to run and machine to machine.

/// A xorshift64 generator; the state must not be 0.
pub(crate) struct Xorshift(pub(crate) u64);

impl Xorshift {
    /// The next 64 random bits.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }

    /// Roughly normal (sum of uniforms), mean 0, standard deviation `std`.
    pub(crate) fn normal(&mut self, std: f32) -> f32 {
        let sum: f32 = (0..12)
            .map(|_| (self.next() >> 40) as f32 / (1u64 << 24) as f32)
            .sum();
        (sum - 6.0) * std
    }
}
