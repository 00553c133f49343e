"""The backward pass without torch: whole-network central finite differences, the seed slides'
worked gradients, the losses, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

from cnncalc.errors import CnncalcError
from cnncalc.executor import backward_ops
from cnncalc.executor.backward import Loss, MissingBackward, backward, parse_loss, run_backward
from cnncalc.executor.forward import Executor
from cnncalc.executor.gradcheck import check_gradients
from cnncalc.layers.conv import Conv
from cnncalc.layers.elementwise import ReLU
from cnncalc.spec.build import load_spec
from tests.conftest import ROOT, SPECS
from tests.executor.backward_cases import KIND_CASES, MERGE_LAYERS
from tests.executor.helpers import make_spec

EPS = 1e-6


def finite_difference_errors(spec, loss: Loss, x: np.ndarray, samples: int = 4) -> list[float]:
    """Relative errors of dL/dx and dL/dparams on sampled coordinates, by central differences of the whole net."""
    executor = Executor(0, np.float64, keep_values=True)
    executor.forward(spec, x)
    grads = backward(spec, executor, x, loss)

    def value() -> float:
        executor.forward(spec, x)
        return loss.value_and_grad(executor.outputs[0])[0]

    rng = np.random.default_rng(1)
    tensors = [(x, grads.node_grads[0])]
    by_name = {r.name: r for r in grads.records}
    for (path, name), array in executor.params.arrays.items():
        if name in by_name[path].grads:
            tensors.append((array, by_name[path].grads[name]))
    errors = []
    for array, grad in tensors:
        flat, g = array.reshape(-1), grad.reshape(-1)
        for i in rng.choice(flat.size, size=min(samples, flat.size), replace=False):
            old = flat[i]
            flat[i] = old + EPS
            plus = value()
            flat[i] = old - EPS
            minus = value()
            flat[i] = old
            numeric = (plus - minus) / (2 * EPS)
            errors.append(
                abs(numeric - g[i]) / max(abs(numeric), abs(g[i]), 1e-3)
            )  # floor: a softmax sum has dL/dx = 0
    return errors


@pytest.mark.parametrize(("shape", "layers"), [*KIND_CASES, ((4, 5, 5), MERGE_LAYERS)], ids=lambda v: str(v)[:60])
@pytest.mark.parametrize("loss", [Loss("sum"), Loss("mse", 0.3)], ids=["sum", "mse"])
def test_gradients_agree_with_finite_differences(shape, layers, loss):
    x = np.random.default_rng(3).standard_normal((2, *shape)) * 2
    if any(isinstance(layer, dict) and "lppool" in layer for layer in layers):
        x = np.abs(x) + 0.1
    assert max(finite_difference_errors(make_spec(shape, layers), loss, x)) < 1e-5


def test_cross_entropy_gradient_agrees_with_finite_differences():
    spec = make_spec((2, 6), [{"conv": {"out_channels": 4, "kernel_size": 3}}, "flatten"])
    x = np.random.default_rng(2).standard_normal((3, 2, 6))
    assert max(finite_difference_errors(spec, Loss("cross_entropy", 5), x)) < 1e-5


@pytest.mark.parametrize("name", ["lenet5", "m5", "dcgan_generator", "seed_000_two_filters"])
def test_layer_by_layer_check_passes_on_shipped_specs(name):
    spec = load_spec(SPECS / f"{name}.yaml")
    executor, x, gradients = run_backward(spec)
    assert all(check.ok for check in check_gradients(spec, executor, x, gradients))


@pytest.mark.parametrize(("shape", "layers"), [*KIND_CASES, ((4, 5, 5), MERGE_LAYERS)], ids=lambda v: str(v)[:60])
def test_layer_by_layer_check_passes_on_every_kind(shape, layers):
    spec = make_spec(shape, layers)
    executor = Executor(0, np.float32, keep_values=True)
    x = np.abs(np.random.default_rng(5).standard_normal((2, *shape), dtype=np.float32)) + 0.1
    executor.forward(spec, x)
    gradients = backward(spec, executor, x, Loss("mse", 0.2))
    checks = check_gradients(spec, executor, x, gradients, samples=6)
    assert all(check.ok for check in checks), [(c.name, c.error) for c in checks if not c.ok]


@pytest.mark.parametrize("wrong", ["input", "weights"])
def test_layer_by_layer_check_catches_a_wrong_conv_gradient(monkeypatch, wrong):
    # A conv backward off by 1% in dL/dX or in dL/dW: the coordinate-wise conv check must see it.
    right = backward_ops.BACKWARD[Conv]

    def off(layer, x, y, gy, ctx):
        gx, grads = right(layer, x, y, gy, ctx)
        if wrong == "input":
            return gx * 1.01, grads
        return gx, {**grads, "weights": grads["weights"] * 1.01}

    monkeypatch.setitem(backward_ops.BACKWARD, Conv, off)
    spec = make_spec(
        (3, 7, 6), [{"conv": {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1, "groups": 1}}]
    )
    executor, x, gradients = run_backward(spec)
    (check,) = check_gradients(spec, executor, x, gradients)
    assert not check.ok and 0.005 < check.error < 0.02


def test_layer_by_layer_check_catches_a_wrong_backward_op(monkeypatch):
    # A ReLU backward that forgets the mask: the check must fail on the ReLU, and only there.
    monkeypatch.setitem(backward_ops.BACKWARD, ReLU, lambda layer, x, y, gy, ctx: (gy, {}))
    spec = make_spec((2, 6), [{"conv": {"out_channels": 3, "kernel_size": 3}}, "relu", "flatten"])
    executor, x, gradients = run_backward(spec, seed=4)
    failed = [c.name for c in check_gradients(spec, executor, x, gradients, samples=12) if not c.ok]
    assert failed == ["relu1"]


def test_a_kind_without_backward_is_a_clear_error_naming_it(monkeypatch):
    monkeypatch.delitem(backward_ops.BACKWARD, ReLU)
    spec = make_spec((2, 6), ["relu"])
    with pytest.raises(MissingBackward, match="kind `relu`"):
        run_backward(spec)


# --- the seed slides ---


def gradients_of(name: str):
    spec = load_spec(SPECS / f"{name}.yaml")
    return run_backward(spec, dtype=np.float64)


def test_seed_000_kernel_gradient_is_a_sum_over_positions():
    # 000_74c1b62540589894.txt, "A concrete example": w multiplies a, b, c, e, f, g (the activation matrix);
    # with L = sum, dL/dw = a + b + c + e + f + g. Letters a..l are the spec's 1..12.
    a, b, c, d, e, f, g, h, i, j, k, l = range(1, 13)  # noqa: E741 (the slide's letters)
    _, _, grads = gradients_of("seed_000_kernel_gradient")
    dw = grads.record("conv1").param_grad("weights")[0, 0]
    expected = [[a + b + c + e + f + g, b + c + d + f + g + h], [e + f + g + i + j + k, f + g + h + j + k + l]]
    np.testing.assert_array_equal(dw, expected)
    # dL/dX: how many kernel entries (w, x, y, z = 1, 2, 3, 4) touch each cell.
    w, x, y, z = 1, 2, 3, 4
    dx = [[w, w + x, w + x, x], [w + y, w + x + y + z, w + x + y + z, x + z], [y, y + z, y + z, z]]
    np.testing.assert_array_equal(grads.node_grads[0][0, 0], dx)


def test_seed_002_chain_rule_factors_have_the_slides_shapes():
    # 002_233095ce89c02862.txt, "CNNs: a taste of backpropagation": dloss/dW1 = dZ1/dW1 . dA1/dZ1 . dloss/dA1,
    # of shapes 3x1 = (3x5)(5x5)(5x1). The numbers are the spec's (comments there work them by hand).
    executor, x, grads = gradients_of("seed_002_backprop_regression")
    padded = np.pad(x[0, 0], 1)  # X_0 .. X_6
    dz_dw = np.stack([padded[k : k + 5] for k in range(3)])  # row k: X_(i-1+k), i = 1..5
    z1 = executor.records[0].values[0, 0]
    da_dz = np.diag((z1 > 0).astype(float))
    dloss_da = grads.record("flatten1").grad_output[0][:, None]  # dloss/dA1, 5x1
    assert (dz_dw.shape, da_dz.shape, dloss_da.shape) == ((3, 5), (5, 5), (5, 1))
    np.testing.assert_allclose(dloss_da[:, 0], [-16, -32, 16, -16, -8])
    chain = dz_dw @ da_dz @ dloss_da
    np.testing.assert_allclose(chain[:, 0], [8, -40, 16])
    np.testing.assert_allclose(grads.record("conv1").param_grad("weights").reshape(-1), chain[:, 0])
    assert grads.loss_value == 64  # (A2 - y)^2 = (-5 - 3)^2


def test_seed_004_strided_conv_gradients_are_g_and_h():
    # 004_dbf4440b6b16890f.txt, "Training": g(G, V, s)[k, l] = sum_(m,n) G[m, n] V[ms+k, ns+l] and
    # h(K, G, s)[j, k] = sum over sl+m = j, sn+p = k of K[m, p] G[l, n], evaluated here from the slide's sums.
    executor, x, grads = gradients_of("seed_004_strided_conv_gradient")
    record = grads.record("conv1")
    big_g, v, s = record.grad_output[0, 0], x[0, 0], 2
    kernel = executor.params.arrays[("conv1", "weights")][0, 0]
    np.testing.assert_allclose(big_g, [[1, 2], [-1, 0]])  # the target makes G these numbers
    g = np.zeros((3, 3))
    h = np.zeros((5, 5))
    for m in range(2):
        for n in range(2):
            for k in range(3):
                for q in range(3):
                    g[k, q] += big_g[m, n] * v[m * s + k, n * s + q]
                    h[m * s + k, n * s + q] += kernel[k, q] * big_g[m, n]
    np.testing.assert_allclose(record.param_grad("weights")[0, 0], g)
    np.testing.assert_allclose(record.grad_inputs[0][0, 0], h)
    np.testing.assert_allclose(g, [[3, 1, 0], [2, 3, 0], [2, 1, 2]])  # the spec's comments and expect:


# --- losses ---


def test_mse_and_cross_entropy_values_and_gradients():
    y = np.array([[1.0, 2.0, 4.0]])
    loss, grad = Loss("mse", [1, 0, 2]).value_and_grad(y)
    assert loss == pytest.approx((0 + 4 + 4) / 3)  # mean of squared differences, as torch's MSELoss
    np.testing.assert_allclose(grad, [[0, 4 / 3, 4 / 3]])
    loss, grad = Loss("cross_entropy", 2).value_and_grad(y)
    p = np.exp(y[0]) / np.exp(y[0]).sum()
    assert loss == pytest.approx(-np.log(p[2]))
    np.testing.assert_allclose(grad[0], p - [0, 0, 1])


@pytest.mark.parametrize(
    ("kind", "target", "message"),
    [("hinge", None, "unknown loss"), ("mse", None, "needs a target"), ("mse", "1,x", "not a list of numbers")],
)
def test_bad_losses_are_clear_errors(kind, target, message):
    with pytest.raises(CnncalcError, match=message):
        parse_loss(kind, target)


def test_cross_entropy_target_out_of_range():
    with pytest.raises(CnncalcError, match="class index from 0 to 2"):
        Loss("cross_entropy", 3).value_and_grad(np.zeros((1, 3)))


def test_mse_target_of_the_wrong_size():
    with pytest.raises(CnncalcError, match="holds 2 numbers"):
        Loss("mse", [1, 2]).value_and_grad(np.zeros((1, 3)))


def test_a_frozen_layer_gets_no_weight_gradient_but_passes_dx_on():
    # tests/data/frozen.yaml (worked there by hand): seed 000's kernel frozen, then a 1x1 conv of weight 2.
    spec = load_spec(ROOT / "tests" / "data" / "frozen.yaml")
    _, _, grads = run_backward(spec, dtype=np.float64)
    conv1, conv2 = grads.record("conv1"), grads.record("conv2")
    assert conv1.grads == {} and conv1.frozen == ("weights",) and conv1.param_grad("weights") is None
    np.testing.assert_array_equal(grads.node_grads[0][0, 0], [[2, 6, 6, 4], [8, 20, 20, 12], [6, 14, 14, 8]])
    assert conv2.frozen == () and conv2.param_grad("weights").item() == 444  # sum of conv1's output
    assert grads.loss_value == 888


def test_a_frozen_conv_skips_computing_its_weight_gradient(monkeypatch):
    asked = []
    real = backward_ops.correlate_backward

    def spy(*args, **kwargs):
        asked.append(kwargs.get("need_weight", True))
        return real(*args, **kwargs)

    monkeypatch.setattr(backward_ops, "correlate_backward", spy)
    run_backward(load_spec(ROOT / "tests" / "data" / "frozen.yaml"), dtype=np.float64)
    assert sorted(asked) == [False, True]  # conv1 (frozen) did not ask for dL/dW, conv2 did
