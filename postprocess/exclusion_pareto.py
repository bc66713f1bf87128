#!/usr/bin/env python3
"""Pareto front of current against activity for the exclusion-process design study.

    exclusion_pareto.py STUDY.h5 [--png front.png] [--average K]
    exclusion_pareto.py MEMBER1.h5 MEMBER2.h5 ... [--png front.png]

Reads a study file (/members/<name>/...) or standalone optimize outputs (the same groups at the
file root), written with input/studies/exclusion.opts (-stgssa_loss design, -stgssa_design
current, -stgssa_budget_activity B). For every member it takes the optimized rates
(/result/parameters, or with --average K the mean log-rates of the last K iterates of
/history/theta) and the fixed rates of the model (/run model_text, with -stgssa_parameters of
/run options applied), and solves the stationary master equation of the model exactly (every
state reachable from the initial counts; the ring of 6 sites with 3 particles has 20). From the
stationary distribution pi:
    J = sum_x pi(x) (a_f(x) - a_b(x))  of the design pair (-stgssa_design_pair),
    A = sum_x pi(x) a_0(x)             (activity: jumps per unit time).
The reference is the homogeneous ring (all forward rates p, backward rate q) at the same
activity. Its stationary measure is uniform over the C(L, N) configurations, so with
c = N(L - N)/(L(L - 1)) its current and activity are J = (p - q) c and A = L (p + q) c:
    J_hom(B) = B/L - 2 q c.
Since A = L J + 2 q W for any rates on the ring (W = mean number of (empty, particle) walls
>= 1), no choice of rates beats J*(B) = (B - 2 q)/L. The table gives, per member: budget B,
exact activity A and current J_opt at the optimum, J_hom(B), J_opt/J_hom(B) (n/a where
J_hom(B) <= 0), J_hom(A), J*(A), J_opt/J*(A), the SSA design loss (-J + W (A - B)_+^2, mean of
the last K iterations) and the member's wall time when the study file has it. The PNG shows
J against activity: optimized members (filled), their starts (open), the homogeneous line and
the bound.
"""
import argparse
import itertools
import math
import re
import sys

import h5py
import numpy as np


def run_info(run):
    """/run's attributes and its string datasets (model_text, options, command_line: datasets since
    issue 16, attributes in older outputs) as one mapping."""
    info = dict(run.attrs)
    info.update({k: v[()] for k, v in run.items() if isinstance(v, h5py.Dataset)})
    return info


def parse_options(text):
    """'-key value -flag -key2 value' -> dict (flags map to '')."""
    toks = text.split()
    opts, i = {}, 0
    is_key = lambda t: len(t) > 1 and t[0] == '-' and (t[1].isalpha() or t[1] == '_')
    while i < len(toks):
        if is_key(toks[i]):
            if i + 1 < len(toks) and not is_key(toks[i + 1]):
                opts[toks[i]] = toks[i + 1]
                i += 2
            else:
                opts[toks[i]] = ''
                i += 1
        else:
            i += 1
    return opts


def parse_model(text):
    """Minimal reader of the native model format: parameters, species (initial counts),
    reactions with mass-action rates (NAME, NUMBER or NUMBER*NAME) and '<->' pairs."""
    params, species, reactions, section = {}, [], [], None
    for raw in text.splitlines():
        line = raw.split('#', 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r'(begin|end)\s+(\w+)', line)
        if m:
            section = m.group(2) if m.group(1) == 'begin' else None
            continue
        if section == 'parameters':
            name, val = line.split()
            params[name] = float(val)
        elif section == 'species':
            name, val = line.split()
            species.append((name, int(val)))
        elif section == 'reactions':
            label = None
            m = re.match(r'([A-Za-z_]\w*)\s*:(?!:)\s*(.*)', line)
            if m and ('->' in m.group(2)):
                label, line = m.group(1), m.group(2)
            arrow = '<->' if '<->' in line else '->'
            lhs, rest = line.split(arrow, 1)
            # 'products  rate' or 'products  rate_f, rate_b': the last token before the comma is a rate
            fields = rest.split(',')
            head = fields[0].split()
            rates = [head[-1]] + [f.strip() for f in fields[1:]]
            prod = ' '.join(head[:-1])
            reactions.append({'label': label, 'lhs': side(lhs), 'rhs': side(prod), 'rates': rates, 'rev': arrow == '<->'})
    return params, species, reactions


def side(s):
    out = {}
    for term in s.split('+'):
        t = term.split()
        if not t or t == ['0']:
            continue
        c, name = (int(t[0]), t[1]) if len(t) == 2 else (1, t[0])
        out[name] = out.get(name, 0) + c
    return out


def rate_value(field, params):
    if '*' in field:
        a, b = field.split('*')
        return float(a) * params[b.strip()]
    try:
        return float(field)
    except ValueError:
        return params[field]


class Chain:
    """Reactions as (reactants, change, rate) over the species of the model."""

    def __init__(self, params, species, reactions):
        self.names = [s for s, _ in species]
        self.x0 = tuple(c for _, c in species)
        ix = {s: i for i, s in enumerate(self.names)}
        self.rx, self.pairs = [], {}
        for r in reactions:
            sides = [(r['lhs'], r['rhs'], r['rates'][0])]
            if r['rev']:
                sides.append((r['rhs'], r['lhs'], r['rates'][1]))
            first = len(self.rx)
            for lhs, rhs, field in sides:
                react = [(ix[s], c) for s, c in lhs.items()]
                nu = np.zeros(len(self.names), int)
                for s, c in lhs.items():
                    nu[ix[s]] -= c
                for s, c in rhs.items():
                    nu[ix[s]] += c
                self.rx.append((react, nu, rate_value(field, params)))
            if r['rev'] and r['label']:
                self.pairs[r['label']] = (first, first + 1)
        self.pair_order = [r['label'] for r in reactions if r['rev'] and r['label']]

    def propensity(self, j, x):
        react, _, k = self.rx[j]
        a = k
        for s, c in react:
            a *= math.comb(x[s], c)
        return a

    def stationary(self, max_states=200000):
        states, index, edges = [self.x0], {self.x0: 0}, []
        i = 0
        while i < len(states):
            x = states[i]
            for j, (_, nu, _) in enumerate(self.rx):
                a = self.propensity(j, x)
                if a > 0:
                    y = tuple(np.add(x, nu))
                    if y not in index:
                        index[y] = len(states)
                        states.append(y)
                        if len(states) > max_states:
                            raise RuntimeError('more than %d reachable states' % max_states)
                    edges.append((i, index[y], j, a))
            i += 1
        n = len(states)
        Q = np.zeros((n, n))
        for i, k, _, a in edges:
            Q[i, k] += a
            Q[i, i] -= a
        M = Q.T.copy()
        M[-1, :] = 1.0  # replace one balance equation by the normalization
        rhs = np.zeros(n)
        rhs[-1] = 1.0
        pi = np.linalg.solve(M, rhs)
        flux = np.zeros(len(self.rx))
        for i, _, j, a in edges:
            flux[j] += pi[i] * a
        return pi, flux


def members(paths):
    """(name, h5 group) for a study file or standalone outputs."""
    out = []
    for p in paths:
        f = h5py.File(p, 'r')
        if 'members' in f:
            names = [n.decode() if isinstance(n, bytes) else str(n) for n in f['study'].attrs['members']] if 'study' in f else list(f['members'])
            wall = f['study/wall_seconds'][()] if 'study' in f and 'wall_seconds' in f['study'] else [float('nan')] * len(names)
            for n, w in zip(names, wall):
                out.append((n, f['members'][n], float(w)))
        else:
            w = f['run'].attrs.get('wall_seconds', float('nan'))
            out.append((p.rsplit('/', 1)[-1].removesuffix('.h5'), f, float(w)))
    return out


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def evaluate(g, average):
    run = run_info(g['run'])
    opts = parse_options(text(run['options']))
    params, species, reactions = parse_model(text(run['model_text']))
    for kv in filter(None, opts.get('-stgssa_parameters', '').split(',')):
        k, v = kv.split('=')
        params[k.strip()] = float(v)
    fit = [text(n) for n in g['history'].attrs['fit_names']]
    theta = g['history/theta'][()]
    start = dict(params)
    start.update({n: math.exp(t) for n, t in zip(fit, theta[0])})
    best = dict(params)
    if average > 1:  # the rows of the last `average` iterations (-stgssa_history_every K keeps every K-th)
        its = g['history/iteration'][()] if 'history/iteration' in g else np.arange(len(theta))
        rows = theta[its > its[-1] - average]
        best.update({n: math.exp(t) for n, t in zip(fit, rows.mean(axis=0))})
    else:
        names = [text(n) for n in g['result/parameters'].attrs['names']]
        best.update(dict(zip(names, g['result/parameters'][()])))
    pair = opts.get('-stgssa_design_pair', '')
    res = {}
    for tag, par in (('start', start), ('opt', best)):
        ch = Chain(par, species, reactions)
        pair = pair or ch.pair_order[0]
        f, b = ch.pairs[pair]
        _, flux = ch.stationary()
        res[tag] = (flux[f] - flux[b], flux.sum())
    # the ring: L labelled pairs, N particles (species X*), backward rate q of the pair
    L = len(ch.pair_order)
    N = sum(c for s, c in species if s.startswith('X'))
    q = ch.rx[ch.pairs[pair][1]][2]
    B = float(opts.get('-stgssa_budget_activity', 'inf'))
    W = float(opts.get('-stgssa_penalty', '100'))
    K = max(1, min(average if average > 1 else 30, len(g['history/loss'])))
    ssa = float(np.mean(g['history/loss'][-K:]))
    return dict(B=B, W=W, L=L, N=N, q=q, J=res['opt'][0], A=res['opt'][1], J0=res['start'][0], A0=res['start'][1],
                ssa_loss=ssa, K=K, p={n: best[n] for n in fit}, iters=len(g['history/loss']) - 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('files', nargs='+', help='study output, or standalone member outputs')
    ap.add_argument('--png', help='write the Pareto front here')
    ap.add_argument('--average', type=int, default=0, help='use the mean log-rates of the last K iterates instead of /result')
    a = ap.parse_args()
    rows = []
    for name, g, wall in members(a.files):
        r = evaluate(g, a.average)
        r['name'], r['wall'] = name, wall
        rows.append(r)
    rows.sort(key=lambda r: r['B'])
    L, N, q = rows[0]['L'], rows[0]['N'], rows[0]['q']
    c = N * (L - N) / (L * (L - 1))
    jhom = lambda B: B / L - 2 * q * c
    jstar = lambda B: (B - 2 * q) / L
    print(f'ASEP ring: L = {L}, N = {N}, q = {q:g}; exact stationary values at the optimized rates'
          f' ({"mean of the last %d iterates" % a.average if a.average > 1 else "/result/parameters"})')
    print(f'J_hom(B) = B/L - 2 q N(L-N)/(L(L-1)) = B/{L} - {2 * q * c:.4g};  bound J*(A) = (A - 2q)/L')
    hdr = f'{"member":8s} {"B":>6s} {"A_opt":>7s} {"J_opt":>7s} {"J_hom(B)":>8s} {"ratio":>6s} {"J_hom(A)":>8s} {"J*(A)":>7s} {"J/J*":>6s} {"SSA -loss":>9s} {"J_start":>7s} {"A_start":>7s} {"wall s":>6s}'
    print(hdr)
    for r in rows:
        jh = jhom(r['B'])
        ratio = f'{r["J"] / jh:6.3f}' if jh > 0 else f'{"n/a":>6s}'
        print(f'{r["name"]:8s} {r["B"]:6.3g} {r["A"]:7.3f} {r["J"]:7.4f} {jh:8.4f} {ratio} {jhom(r["A"]):8.4f} {jstar(r["A"]):7.4f} '
              f'{r["J"] / jstar(r["A"]):6.3f} {-r["ssa_loss"]:9.4f} {r["J0"]:7.4f} {r["A0"]:7.3f} {r["wall"]:6.1f}')
    print('optimized forward rates (slow bond: the queue forms behind it):')
    for r in rows:
        print(f'  {r["name"]:8s} ' + ' '.join(f'{k}={v:.3g}' for k, v in r['p'].items()))
    if a.png:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        bmax = max(max(r['B'], r['A']) for r in rows) * 1.08
        # homogeneous ring: p >= 0 needs A >= L q c; the bound is drawn from J* = 0 (A = 2q) on
        bh, bs = np.linspace(L * q * c, bmax, 200), np.linspace(2 * q, bmax, 200)
        fig, ax = plt.subplots(figsize=(6, 4.5))
        ax.plot(bh, jhom(bh), 'k--', label=r'homogeneous ring $J_{hom}=B/L-2qc$')
        ax.plot(bs, jstar(bs), 'C2:', label=r'bound $J^*=(B-2q)/L$ (any rates)')
        ax.plot([r['A0'] for r in rows], [r['J0'] for r in rows], 'o', mfc='none', color='C0', label='start (exact)')
        ax.plot([r['A'] for r in rows], [r['J'] for r in rows], 'o', color='C3', label='optimized (exact at the SSA optimum)')
        for r in rows:
            ax.annotate('', xy=(r['A'], r['J']), xytext=(r['A0'], r['J0']), arrowprops=dict(arrowstyle='->', color='0.6', lw=0.8))
            ax.axvline(r['B'], color='0.9', lw=0.8, zorder=0)
        ax.axhline(0, color='0.7', lw=0.6)
        ax.set_xlim(0, bmax)
        ax.set_xlabel('activity (jumps per unit time); grey lines: budgets B')
        ax.set_ylabel('stationary current J')
        ax.set_title(f'ASEP ring L={L}, N={N}, q={q:g}: current vs activity budget')
        ax.legend(fontsize=8, loc='upper left')
        fig.tight_layout()
        fig.savefig(a.png, dpi=120)
        print(f'wrote {a.png}')


if __name__ == '__main__':
    sys.exit(main())
