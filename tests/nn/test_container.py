"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""
from collections import OrderedDict

import numpy as np
import pytest

import npnn
from npnn import nn


class Scale(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.k = k
        self.w = nn.Parameter(npnn.ones(1))

    def forward(self, x):
        return x * self.k * self.w

    def extra_repr(self):
        return f'k={self.k}'


def ks(seq):
    return [m.k for m in seq]


def test_sequential_construction_and_forward():
    s = nn.Sequential(Scale(2), Scale(3))
    assert float(s(npnn.ones(1))) == 6.0
    d = nn.Sequential(OrderedDict([('first', Scale(2)), ('second', Scale(5))]))
    assert list(d._modules) == ['first', 'second'] and d.second.k == 5
    assert [n for n, _ in d.named_parameters()] == ['first.w', 'second.w']
    assert float(nn.Sequential()(npnn.ones(1))) == 1.0


def test_sequential_indexing_assignment_deletion():
    s = nn.Sequential(*[Scale(i) for i in range(5)])
    assert s[0].k == 0 and s[-1].k == 4 and s[-5].k == 0
    sub = s[1:4]
    assert type(sub) is nn.Sequential and ks(sub) == [1, 2, 3] and list(sub._modules) == ['1', '2', '3']
    assert ks(s[::-2]) == [4, 2, 0]
    with pytest.raises(IndexError, match='index 5 is out of range'):
        s[5]
    with pytest.raises(IndexError):
        s[-6]
    s[1] = Scale(10)
    s[-1] = Scale(40)
    assert ks(s) == [0, 10, 2, 3, 40]
    del s[0]
    assert ks(s) == [10, 2, 3, 40] and list(s._modules) == ['0', '1', '2', '3']  # renumbered
    del s[-1]
    del s[0:2]
    assert ks(s) == [3] and list(s._modules) == ['0']
    assert len(s) == 1


def test_sequential_append_insert_extend_pop_add_mul():
    s = nn.Sequential(Scale(1))
    assert s.append(Scale(2)) is s
    s.insert(0, Scale(0))
    s.insert(-1, Scale(9))
    assert ks(s) == [0, 1, 9, 2] and list(s._modules) == ['0', '1', '2', '3']
    s.extend([Scale(3), Scale(4)])
    assert ks(s) == [0, 1, 9, 2, 3, 4]
    assert s.pop(2).k == 9 and ks(s) == [0, 1, 2, 3, 4]
    with pytest.raises(IndexError, match='Index out of range'):
        s.insert(10, Scale(0))
    with pytest.raises(AssertionError):
        s.insert(0, 3)
    t = s + nn.Sequential(Scale(7))
    assert ks(t) == [0, 1, 2, 3, 4, 7] and len(s) == 5
    with pytest.raises(ValueError, match='add operator supports only objects of Sequential class'):
        s + [Scale(1)]
    u = nn.Sequential(Scale(1), Scale(2)) * 2
    assert ks(u) == [1, 2, 1, 2] and u[0] is u[2]
    with pytest.raises(ValueError, match='Non-positive multiplication factor'):
        u * 0
    v = nn.Sequential(Scale(1))
    v += nn.Sequential(Scale(2))
    assert ks(v) == [1, 2]
    assert [k for k in dir(v) if k.isdigit()] == []
    assert ks(list(iter(v))) == [1, 2]


def test_sequential_repr():
    s = nn.Sequential(Scale(1), nn.Sequential(Scale(2)))
    assert repr(s) == ('Sequential(\n  (0): Scale(k=1)\n  (1): Sequential(\n    (0): Scale(k=2)\n  )\n)')
    assert repr(nn.Sequential()) == 'Sequential()'


def test_module_list():
    ml = nn.ModuleList([Scale(0), Scale(1)])
    ml.append(Scale(2))
    ml.extend([Scale(3)])
    ml += [Scale(4)]
    ml.insert(1, Scale(9))
    assert ks(ml) == [0, 9, 1, 2, 3, 4] and list(ml._modules) == [str(i) for i in range(6)]
    assert ml[-1].k == 4 and ks(ml[1:3]) == [9, 1] and type(ml[1:3]) is nn.ModuleList
    ml[0] = Scale(7)
    del ml[1]
    assert ks(ml) == [7, 1, 2, 3, 4] and list(ml._modules) == [str(i) for i in range(5)]
    del ml[::2]
    assert ks(ml) == [1, 3]
    assert ml.pop(0).k == 1 and ks(ml) == [3]
    assert len(list((ml + nn.ModuleList([Scale(5)])).parameters())) == 2
    with pytest.raises(IndexError):
        ml[3]
    with pytest.raises(TypeError, match='ModuleList.extend should be called with an iterable'):
        ml.extend(Scale(1))
    with pytest.raises(NotImplementedError):
        ml(1)
    parent = nn.Module()
    parent.layers = nn.ModuleList([Scale(1), Scale(2)])
    assert [n for n, _ in parent.named_parameters()] == ['layers.0.w', 'layers.1.w']


def test_module_list_repr_compresses_repeats():
    ml = nn.ModuleList([Scale(1), Scale(1), Scale(2), Scale(3), Scale(3), Scale(3)])
    assert repr(ml) == ('ModuleList(\n  (0-1): 2 x Scale(k=1)\n  (2): Scale(k=2)\n  (3-5): 3 x Scale(k=3)\n)')
    assert repr(nn.ModuleList()) == 'ModuleList()'


def test_module_dict():
    md = nn.ModuleDict({'b': Scale(1), 'a': Scale(2)})
    assert list(md.keys()) == ['b', 'a']  # insertion order
    md['c'] = Scale(3)
    md.update([('d', Scale(4))])
    md.update(nn.ModuleDict({'e': Scale(5)}))
    assert list(md) == ['b', 'a', 'c', 'd', 'e'] and 'c' in md and len(md) == 5
    assert md.pop('a').k == 2 and 'a' not in md
    del md['b']
    assert [k for k, _ in md.items()] == ['c', 'd', 'e'] and ks(md.values()) == [3, 4, 5]
    assert [n for n, _ in md.named_parameters()] == ['c.w', 'd.w', 'e.w']
    with pytest.raises(ValueError, match='has length 3; 2 is required'):
        md.update([('x', Scale(1), 1)])
    with pytest.raises(TypeError, match='should be called with an iterable'):
        md.update(3)
    md.clear()
    assert len(md) == 0
    assert repr(nn.ModuleDict({'x': Scale(1)})) == 'ModuleDict(\n  (x): Scale(k=1)\n)'


def test_parameter_list():
    pl = nn.ParameterList([nn.Parameter(npnn.zeros(2, 3)), npnn.ones(2)])
    assert all(isinstance(p, nn.Parameter) for p in pl) and len(pl) == 2
    pl.append(npnn.ones(1))
    pl.extend([npnn.zeros(4)])
    assert [tuple(p.shape) for p in pl] == [(2, 3), (2,), (1,), (4,)]
    assert pl[-1].shape == (4,) and len(pl[1:3]) == 2 and type(pl[1:3]) is nn.ParameterList
    pl[0] = npnn.ones(5)
    assert isinstance(pl[0], nn.Parameter) and pl[0].shape == (5,)
    assert [n for n, _ in pl.named_parameters()] == ['0', '1', '2', '3']
    pl.append('not a tensor')
    assert repr(pl) == ('ParameterList(\n'
                        '    (0): Parameter containing: [npnn.float32 of size 5]\n'
                        '    (1): Parameter containing: [npnn.float32 of size 2]\n'
                        '    (2): Parameter containing: [npnn.float32 of size 1]\n'
                        '    (3): Parameter containing: [npnn.float32 of size 4]\n'
                        '    (4): Object of type: str\n'
                        ')')
    with pytest.raises(RuntimeError, match='ParameterList should not be called'):
        pl(1)
    with pytest.raises(TypeError, match='ParameterList.extend should be called with an iterable'):
        pl.extend(npnn.ones(2))
    m = nn.Module()
    m.ps = nn.ParameterList([npnn.ones(1)])
    assert list(m.state_dict()) == ['ps.0']


def test_parameter_dict():
    pd = nn.ParameterDict({'b': npnn.zeros(2), 'a': nn.Parameter(npnn.ones(3, 1))})
    assert list(pd.keys()) == ['a', 'b']  # a plain dict is added in sorted order
    pd2 = nn.ParameterDict(OrderedDict([('z', npnn.zeros(1)), ('y', npnn.zeros(1))]))
    assert list(pd2) == ['z', 'y']
    pd['c'] = npnn.ones(1)
    assert isinstance(pd['c'], nn.Parameter) and 'c' in pd and len(pd) == 3
    assert pd.get('nope') is None and pd.get('c') is pd['c']
    assert pd.setdefault('d', npnn.zeros(2)).shape == (2,)
    assert [n for n, _ in pd.named_parameters()] == ['a', 'b', 'c', 'd']
    k, v = pd.popitem()
    assert k == 'd' and v.shape == (2,)
    assert pd.pop('c').shape == (1,) and list(pd) == ['a', 'b']
    assert list(reversed(pd)) == ['b', 'a']
    cp = pd.copy()
    assert cp['a'] is pd['a']
    merged = pd | nn.ParameterDict({'e': npnn.ones(1)})
    assert list(merged) == ['a', 'b', 'e']
    assert repr(pd) == ('ParameterDict(\n'
                        '    (a): Parameter containing: [npnn.FloatTensor of size 3x1]\n'
                        '    (b): Parameter containing: [npnn.FloatTensor of size 2]\n'
                        ')')
    with pytest.raises(TypeError, match='not a string'):
        pd[1] = npnn.ones(1)
    with pytest.raises(RuntimeError, match='ParameterDict should not be called'):
        pd(1)
    pd.clear()
    assert len(pd) == 0 and list(pd.parameters()) == []


def test_containers_move_with_the_parent(device):
    m = nn.Sequential(Scale(1), nn.ModuleList([Scale(2)]))
    m.p = nn.ParameterList([npnn.ones(2)])
    m.to(device)
    assert all(p.device.type == device for p in m.parameters())
