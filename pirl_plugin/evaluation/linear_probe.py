"""Linear probe of frozen features (scikit-learn logistic regression)."""
import torch


def linear_probe_accuracy(train_feats: torch.Tensor,
                          train_labels: torch.Tensor,
                          test_feats: torch.Tensor,
                          test_labels: torch.Tensor,
                          C: float = 1.0,
                          max_iter: int = 2000) -> float:
    """Top-1 (%) of a multinomial logistic regression (L2 penalty) fitted on
    the standardised ``train`` features and scored on ``test``.

    Args:
        train_feats (Tensor): ``(N, D)`` features.
        train_labels (Tensor): ``(N,)`` labels.
        test_feats (Tensor): ``(M, D)`` features.
        test_labels (Tensor): ``(M,)`` labels.
        C (float): inverse regularisation strength. Defaults to 1.0.
        max_iter (int): solver iterations. Defaults to 2000.

    Returns:
        float: top-1 accuracy in %.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    probe = make_pipeline(StandardScaler(),
                          LogisticRegression(C=C, max_iter=max_iter))
    probe.fit(train_feats.numpy(), train_labels.numpy())
    return float(100.0 * probe.score(test_feats.numpy(), test_labels.numpy()))
