"""A multi-head graph attention layer for batches of small per-sample graphs."""

import torch
import torch.nn.functional as F
from torch import nn


def masked_softmax(logits, allowed, dim=-1):
    """Softmax of ``logits`` over the entries where ``allowed`` is True.

    Disallowed entries get exactly 0, and a slice with no allowed entry gets
    all zeros (not NaN). The fill is a finite large negative put in with
    :func:`torch.where`, so neither the output nor the gradient can be NaN.
    """
    logits = torch.where(allowed, logits, torch.finfo(logits.dtype).min)
    weights = torch.softmax(logits, dim=dim)
    return torch.where(allowed, weights, torch.zeros_like(weights))


class DenseGATLayer(nn.Module):
    r"""The graph attentional operator of `"Graph Attention Networks"
    <https://arxiv.org/abs/1710.10903>`_ (Veličković et al., 2018) for a batch
    of small graphs, one per sample, with the edge weights as a log-prior.

    Every sample :math:`b` has its own weighted graph over the same :math:`M`
    nodes, with edge weights :math:`w_{mn} \ge 0` from sender :math:`n` to
    receiver :math:`m` (:math:`w_{mn} = 0`: no edge). For each head
    :math:`h = 1..H`:

    .. math::

        e^h_{mn} = \mathrm{LeakyReLU}_{0.2}\left(
            \mathbf{a}_h^\top [\Theta_h \mathbf{v}_m \,\|\, \Theta_h \mathbf{v}_n]
        \right), \qquad
        \alpha^h_{mn} = \frac{\exp(e^h_{mn} + \log w_{mn})}
            {\sum_{n' \in \mathcal{N}(m)} \exp(e^h_{mn'} + \log w_{mn'})},

    over the neighbourhood :math:`\mathcal{N}(m) = \{n : w_{mn} > 0\}`, and

    .. math::

        \mathbf{v}'_m = \mathrm{ELU}\left( \mathop{\Big\Vert}_{h=1}^{H}
            \sum_{n \in \mathcal{N}(m)} \alpha^h_{mn} \Theta_h \mathbf{v}_n
            + \mathbf{b} \right)

    with concatenation over heads (``concat=True``) or their mean
    (``concat=False``, usual for a last layer). The residual connection and
    normalisation, :math:`\mathrm{LayerNorm}(\mathbf{v} + \mathrm{Dropout}
    (\mathbf{v}'))`, are left to the caller, which needs ``out_dim * heads``
    (concat) or ``out_dim`` (mean) to equal the input width for them.

    A node with no edge at all (a row of zeros) receives no message: its
    attention row is zero and its output is :math:`\mathrm{ELU}(\mathbf{b})`.
    Give every node a self-loop to avoid that.

    The graph can be given in one of two layouts:

    * dense: ``edge_weight`` of shape (B, M, M), cost :math:`O(M^2)` per head;
    * neighbour slots: ``neighbors`` of shape (B, M, K) holding the sender of
      each of the :math:`K` slots of every receiver (indices in
      :math:`0..M-1`, distinct along the last axis), and ``edge_weight`` of
      shape (B, M, K) their weights (0: unused slot). Messages are gathered
      from the :math:`K` senders only, so the cost is :math:`O(M K)`.

    Parameters
    ----------
    in_dim : int
        Width of the input node features.
    out_dim : int
        Width of each head's output.
    heads : int, default=1
        Number of attention heads.
    concat : bool, default=True
        Concatenate the heads (output width ``heads * out_dim``), or average
        them (output width ``out_dim``).
    negative_slope : float, default=0.2
        Slope of the LeakyReLU in the attention scores.
    bias : bool, default=True
        Learn the additive bias :math:`\mathbf{b}`.

    Notes
    -----
    Shapes of ``forward(x, edge_weight, neighbors=None) -> (out, attention)``:

    - **x**: (B, M, in_dim)
    - **edge_weight**: (B, M, M), or (B, M, K) with **neighbors** (B, M, K)
    - **out**: (B, M, heads * out_dim) or (B, M, out_dim)
    - **attention**: :math:`\alpha`, (B, heads, M, M) or (B, heads, M, K) in
      the layout of ``edge_weight``; each row sums to 1 over the edges of its
      receiver and is exactly 0 where there is no edge.
    """

    def __init__(
        self, in_dim, out_dim, heads=1, concat=True, negative_slope=0.2, bias=True
    ):
        super().__init__()
        self.in_dim, self.out_dim, self.heads = in_dim, out_dim, heads
        self.concat = concat
        self.negative_slope = negative_slope
        self.lin = nn.Linear(in_dim, heads * out_dim, bias=False)
        # a_h = [a_dst || a_src], split so both halves are computed once per
        # node and summed per edge instead of concatenated per edge.
        self.att_dst = nn.Parameter(torch.empty(heads, out_dim))
        self.att_src = nn.Parameter(torch.empty(heads, out_dim))
        width = heads * out_dim if concat else out_dim
        self.bias = nn.Parameter(torch.zeros(width)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.xavier_uniform_(self.lin.weight)
        nn.init.xavier_uniform_(self.att_dst)
        nn.init.xavier_uniform_(self.att_src)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x, edge_weight, neighbors=None):
        batch, n_nodes, _ = x.shape
        weight = self.lin.weight.view(self.heads, self.out_dim, self.in_dim)
        # a^T (Theta_h v) = (Theta_h^T a)^T v: node scores straight from x,
        # each of shape (B, M, heads).
        score_dst = x @ torch.einsum("ho,hoi->ih", self.att_dst, weight)
        score_src = x @ torch.einsum("ho,hoi->ih", self.att_src, weight)
        if neighbors is None:
            src_score = score_src.unsqueeze(1)  # (B, 1, M, heads)
        else:
            n_slots = neighbors.shape[-1]
            offsets = torch.arange(batch, device=x.device).view(-1, 1, 1) * n_nodes
            senders = (neighbors + offsets).reshape(-1)  # rows of x.flatten(0, 1)
            src_score = score_src.flatten(0, 1).index_select(0, senders)
            src_score = src_score.view(batch, n_nodes, n_slots, self.heads)
        logits = F.leaky_relu(score_dst.unsqueeze(2) + src_score, self.negative_slope)
        has_edge = (edge_weight > 0).unsqueeze(-1)  # (B, M, M or K, 1)
        # log w as a prior; the where keeps log(0) (and its infinite
        # gradient) out, the clamp bounds 1/w for weights that underflow.
        prior = torch.where(has_edge, edge_weight.unsqueeze(-1), 1.0)
        logits = logits + prior.clamp_min(1e-12).log()
        alpha = masked_softmax(logits, has_edge, dim=2)  # (B, M, M or K, heads)
        if neighbors is None:
            values = self.lin(x).view(batch, n_nodes, self.heads, self.out_dim)
            out = torch.einsum("bmnh,bnhd->bmhd", alpha, values)
            out = out.flatten(2) if self.concat else out.mean(2)
        else:
            # sum_n alpha_mn Theta_h v_n = Theta_h sum_n alpha_mn v_n: gather
            # the K senders once at the input width, for all heads at once.
            neighbours = x.flatten(0, 1).index_select(0, senders)
            neighbours = neighbours.view(batch, n_nodes, n_slots, self.in_dim)
            mixed = torch.einsum("bmkh,bmki->bmhi", alpha, neighbours)
            if self.concat:
                out = torch.einsum("bmhi,hoi->bmho", mixed, weight).flatten(2)
            else:
                # The mean over heads of Theta_h mixed_h is one product of
                # the concatenated heads with the stacked Theta_h^T / H: a
                # single matmul instead of H batched ones and a mean.
                stacked = weight.permute(0, 2, 1).reshape(-1, self.out_dim) / self.heads
                out = mixed.flatten(2) @ stacked
        if self.bias is not None:
            out = out + self.bias
        return F.elu(out), alpha.permute(0, 3, 1, 2)

    def extra_repr(self):
        return (
            f"{self.in_dim}, {self.out_dim}, heads={self.heads}, "
            f"concat={self.concat}, negative_slope={self.negative_slope}"
        )
