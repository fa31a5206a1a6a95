"""Numbers torch.optim computes, pinned in crates/optim/tests/torch_parity.rs.

CI has no Python: run this once by hand (any torch 2.x; these were made with 2.15) and paste
its output into the Rust test when a case is added:

    python crates/optim/tests/pytorch/optim_reference.py

Everything is float64. The problem: L(w, b) = mean((X·w + b − y)²) + 0.1·Σ w⁴, with
X [4, 3], y [4, 1], w [3, 1], b [1] fixed below (the Rust test builds the same).
"""
import math

import torch

torch.set_default_dtype(torch.float64)

X = torch.tensor([[1.0, 2.0, -1.0], [0.5, -1.5, 2.0], [-2.0, 0.3, 1.0], [1.5, 1.0, 0.5]])
Y = torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
W0 = [[0.5], [-0.3], [0.8]]
B0 = [0.1]


def loss_of(w, b):
    r = X @ w + b - Y
    return (r * r).mean() + 0.1 * (w**4).sum()


def fmt(values):
    return "[" + ", ".join(repr(float(v)) for v in values) + "]"


def run(name, make, steps, sign=1.0):
    w = torch.tensor(W0, requires_grad=True)
    b = torch.tensor(B0, requires_grad=True)
    opt = make(w, b)
    for _ in range(steps):
        opt.zero_grad()
        (sign * loss_of(w, b)).backward()
        opt.step()
    print(f"{name}: w = {fmt(w.detach().flatten())}, b = {fmt(b.detach())}")


def optimizers():
    O = torch.optim
    run("nadam", lambda w, b: O.NAdam([w, b], lr=0.05, weight_decay=0.01), 30)
    run("nadam_decoupled", lambda w, b: O.NAdam([w, b], lr=0.05, weight_decay=0.1, decoupled_weight_decay=True), 30)
    run("radam", lambda w, b: O.RAdam([w, b], lr=0.05, weight_decay=0.01), 30)
    run("radam_decoupled", lambda w, b: O.RAdam([w, b], lr=0.05, weight_decay=0.1, decoupled_weight_decay=True), 30)
    # maximize on −L climbs −L, i.e. descends L.
    run("adam_maximize", lambda w, b: O.Adam([w, b], lr=0.05, maximize=True), 30, sign=-1.0)
    run("adam_decoupled_amsgrad", lambda w, b: O.Adam([w, b], lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, amsgrad=True), 30)
    run("adamw", lambda w, b: O.AdamW([w, b], lr=0.05), 30)
    run("sgd_groups", lambda w, b: O.SGD([
        {"params": [w], "lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
        {"params": [b], "lr": 0.1, "weight_decay": 0.0},
    ]), 30)
    run("rmsprop_maximize", lambda w, b: O.RMSprop([w, b], lr=0.01, momentum=0.5, centered=True, maximize=True), 30, sign=-1.0)
    run("adagrad_maximize", lambda w, b: O.Adagrad([w, b], lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1, maximize=True), 30, sign=-1.0)


def clip():
    a = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    a.grad = torch.tensor([3.0])
    b.grad = torch.tensor([4.0])
    n = torch.nn.utils.clip_grad_norm_([a, b], 1.0)
    print(f"clip: norm = {float(n)!r}, grads = {fmt([a.grad[0], b.grad[0]])}")


def lrs(name, make_scheds, steps, base=(1.0, 0.5)):
    """Each group's lr before the first step and after each scheduler step."""
    p = [torch.zeros(1, requires_grad=True) for _ in base]
    opt = torch.optim.SGD([{"params": [q], "lr": lr} for q, lr in zip(p, base)])
    sched = make_scheds(opt)
    seq = [[g["lr"] for g in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        sched.step()
        seq.append([g["lr"] for g in opt.param_groups])
    for g in range(len(base)):
        print(f"{name}[{g}]: {fmt([s[g] for s in seq])}")


def schedulers():
    S = torch.optim.lr_scheduler
    lrs("cosine_issue", lambda o: S.CosineAnnealingLR(o, T_max=1, eta_min=0.0), 2, base=(1.0,))
    lrs("cosine", lambda o: S.CosineAnnealingLR(o, T_max=3, eta_min=0.1), 10)
    lrs("warm_restarts", lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.05), 16)
    lrs("warm_restarts_1", lambda o: S.CosineAnnealingWarmRestarts(o, T_0=4), 9)
    lrs("linear", lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4), 7)
    lrs("linear_down", lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=3), 5)
    lrs("one_cycle", lambda o: S.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=10, cycle_momentum=False), 10)
    lrs("one_cycle_3_linear", lambda o: S.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=12, pct_start=0.25, anneal_strategy="linear", three_phase=True, cycle_momentum=False), 12)
    lrs("exponential", lambda o: S.ExponentialLR(o, gamma=0.9), 4)

    def sequential(o):
        a = S.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=3)
        b = S.CosineAnnealingLR(o, T_max=5, eta_min=0.01)
        return S.SequentialLR(o, [a, b], milestones=[3])

    lrs("sequential", sequential, 10)

    def chained(o):
        a = S.LinearLR(o, start_factor=0.5, end_factor=1.0, total_iters=4)
        b = S.ExponentialLR(o, gamma=0.9)
        return S.ChainedScheduler([a, b])

    lrs("chained", chained, 7)


def plateau():
    metrics = [5.0, 4.0, 4.0, 3.97, 3.995, 4.1, 4.2, 3.0, 3.0, 3.0, 3.0, 2.9, 2.95, 3.1, 3.2, 3.3, 3.4, 3.5, 3.6, 3.7, 3.8, 3.9]
    S = torch.optim.lr_scheduler
    for mode in ["min", "max"]:
        for tm in ["rel", "abs"]:
            p = [torch.zeros(1, requires_grad=True) for _ in range(2)]
            opt = torch.optim.SGD([{"params": [p[0]], "lr": 1.0}, {"params": [p[1]], "lr": 0.5}])
            sched = S.ReduceLROnPlateau(opt, mode=mode, factor=0.5, patience=1, threshold=0.01,
                                        threshold_mode=tm, cooldown=2, min_lr=0.05)
            seq = []
            for m in metrics:
                sched.step(m if mode == "min" else -m)
                seq.append([g["lr"] for g in opt.param_groups])
            for g in range(2):
                print(f"plateau_{mode}_{tm}[{g}]: {fmt([s[g] for s in seq])}")


def lbfgs():
    A = torch.tensor([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    bvec = torch.tensor([1.0, -2.0, 0.5])

    def quadratic(x):
        return 0.5 * x @ A @ x - bvec @ x

    def rosenbrock(x):
        return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2

    cases = [
        ("lbfgs_quadratic", quadratic, [1.0, 1.0, 1.0], dict(lr=0.5, max_iter=4, history_size=3), 4),
        ("lbfgs_quadratic_wolfe", quadratic, [1.0, 1.0, 1.0], dict(max_iter=3, history_size=5, line_search_fn="strong_wolfe"), 3),
        ("lbfgs_rosenbrock_wolfe", rosenbrock, [-1.2, 1.0], dict(max_iter=5, history_size=10, line_search_fn="strong_wolfe"), 6),
        ("lbfgs_rosenbrock", rosenbrock, [-1.2, 1.0], dict(lr=0.1, max_iter=5, history_size=10), 4),
    ]
    for name, f, x0, kw, calls in cases:
        x = torch.tensor(x0, requires_grad=True)
        opt = torch.optim.LBFGS([x], **kw)
        evals = [0]

        def closure():
            opt.zero_grad()
            loss = f(x)
            loss.backward()
            evals[0] += 1
            return loss

        out = []
        for _ in range(calls):
            first = opt.step(closure)
            out.append((float(first), x.detach().clone().tolist(), evals[0]))
        print(f"{name}: first losses {fmt([o[0] for o in out])}")
        print(f"{name}: evals {[o[2] for o in out]}")
        for i, o in enumerate(out):
            print(f"{name}: x after call {i + 1} = {fmt(o[1])}")


if __name__ == "__main__":
    optimizers()
    clip()
    schedulers()
    plateau()
    lbfgs()
