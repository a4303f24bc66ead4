"""``npnn.optim``: optimizers and learning-rate schedulers."""
from .optimizer import Optimizer, register_optimizer_step_pre_hook, register_optimizer_step_post_hook
from .sgd import SGD
from .adam import Adam
from .adafactor import Adafactor
from .adamw import AdamW
from .adagrad import Adagrad
from .adadelta import Adadelta
from .adamax import Adamax
from .asgd import ASGD
from .nadam import NAdam
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sparse_adam import SparseAdam
from .lbfgs import LBFGS
from . import lr_scheduler, _functional, swa_utils

__all__ = ['Optimizer', 'SGD', 'Adam', 'Adafactor', 'AdamW', 'Adagrad', 'Adadelta', 'Adamax', 'ASGD', 'NAdam', 'RAdam',
           'RMSprop', 'Rprop', 'SparseAdam', 'LBFGS', 'lr_scheduler', 'register_optimizer_step_pre_hook',
           'register_optimizer_step_post_hook']
