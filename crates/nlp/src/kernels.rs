//! Inference kernels that replace candle's where the profile said so.
//!
//! A release profile of `newsflow bench articles` (perf, one tensor thread) put 17% of the
//! whole analysis in the encoder's GELU: candle's `gelu_erf` calls libm's scalar `erf` (and,
//! past |x| = 0.84, `exp`) once per element of every feed-forward layer. [`gelu`] computes
//! the same function from a rational approximation of erf that has no branch and no call, so
//! the compiler vectorizes the loop. Training keeps candle's op, which backpropagates.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};

/// `x Φ(x)` (GELU, the erf form BERT uses) elementwise, for inference: on the CPU through
/// [`Gelu`], elsewhere through candle's `gelu_erf`.
pub fn gelu(x: &Tensor) -> candle_core::Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == candle_core::DType::F32 {
        x.contiguous()?.apply_op1_no_bwd(&Gelu)
    } else {
        x.gelu_erf()
    }
}

/// The fused GELU op (f32, CPU).
struct Gelu;

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "gelu-erf-rational"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(all) = storage else {
            candle_core::bail!("gelu-erf-rational takes f32")
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("gelu-erf-rational takes a contiguous tensor")
        };
        let src = &all[start..end];
        let mut dst = vec![0f32; src.len()];
        gelu_slice(src, &mut dst);
        Ok((CpuStorage::F32(dst), layout.shape().clone()))
    }
}

/// [`gelu_scalar`] over a slice: with AVX2 and FMA where the CPU has them (8 lanes and fused
/// multiply-adds; the build targets plain x86-64), else the baseline's 4 lanes.
fn gelu_slice(src: &[f32], dst: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has both features the function is compiled for (checked just above).
        unsafe { gelu_slice_avx2(src, dst) };
        return;
    }
    gelu_loop(src, dst);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn gelu_slice_avx2(src: &[f32], dst: &mut [f32]) {
    gelu_loop(src, dst);
}

#[inline(always)]
fn gelu_loop(src: &[f32], dst: &mut [f32]) {
    for (d, &x) in dst.iter_mut().zip(src) {
        *d = gelu_scalar(x);
    }
}

/// `x Φ(x) = x (1 + erf(x / √2)) / 2`.
#[inline(always)]
fn gelu_scalar(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// erf in f32 as `x P(x²) / Q(x²)` on [-4, 4] (±1 beyond, where f32 cannot tell erf from ±1):
/// the minimax coefficients of Eigen's `generic_fast_erf_float` (as in XLA); within 5e-7 of
/// the true erf, a few f32 steps near ±1 (the test checks against libm's f64 erf).
#[inline(always)]
fn erf(x: f32) -> f32 {
    const ALPHA: [f32; 7] = [
        -2.726_142_3e-10,
        2.770_681_4e-8,
        -2.101_024e-6,
        -5.692_506_4e-5,
        -7.349_906_3e-4,
        -2.954_6e-3,
        -1.609_603_3e-2,
    ];
    const BETA: [f32; 5] = [
        -1.456_607_2e-5,
        -2.133_740_6e-4,
        -1.682_827e-3,
        -7.373_329e-3,
        -1.426_474e-2,
    ];
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = ALPHA[0];
    for a in &ALPHA[1..] {
        p = p * x2 + a;
    }
    let mut q = BETA[0];
    for b in &BETA[1..] {
        q = q * x2 + b;
    }
    x * p / q
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn erf_is_within_half_a_millionth_of_libm_everywhere() {
        let mut worst = 0f64;
        for i in -80_000..=80_000 {
            let x = i as f32 / 10_000.0; // -8 to 8
            let error = (erf(x) as f64 - libm::erf(x as f64)).abs();
            worst = worst.max(error);
        }
        assert!(worst < 5e-7, "worst error {worst}");
        assert!((erf(f32::INFINITY) - 1.0).abs() < 5e-7);
        assert!((erf(f32::NEG_INFINITY) + 1.0).abs() < 5e-7);
        assert!(erf(f32::NAN).is_nan());
    }

    #[test]
    fn the_kernel_matches_candles_gelu_on_every_path() -> candle_core::Result<()> {
        let device = Device::Cpu;
        // Odd lengths and a non-contiguous view exercise the loop's tail and `contiguous`.
        let values: Vec<f32> = (0..1_003).map(|i| (i as f32 - 501.0) / 60.0).collect();
        let x = Tensor::from_vec(values, (17, 59), &device)?.t()?;
        let ours = gelu(&x)?.flatten_all()?.to_vec1::<f32>()?;
        let candles = x.gelu_erf()?.flatten_all()?.to_vec1::<f32>()?;
        assert_eq!(ours.len(), candles.len());
        let worst = ours
            .iter()
            .zip(&candles)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst < 2e-6, "worst difference {worst}");
        // The baseline loop too, wherever the CPU has AVX2.
        let src: Vec<f32> = (0..37).map(|i| i as f32 / 4.0 - 4.5).collect();
        let mut fast = vec![0f32; src.len()];
        let mut plain = vec![0f32; src.len()];
        gelu_slice(&src, &mut fast);
        gelu_loop(&src, &mut plain);
        for (a, b) in fast.iter().zip(&plain) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
        Ok(())
    }
}
