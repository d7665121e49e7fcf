from django.db import models


class Channel(models.Model):
    """A push-to-talk channel; one LiveKit room of the same name."""

    name = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
