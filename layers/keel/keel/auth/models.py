"""Requests and responses of the authentication routes."""

from __future__ import annotations

from pydantic import BaseModel, EmailStr, Field

from keel.users.models import UserOut


class LoginRequest(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=1024)
    remember_me: bool = False


class SessionOut(BaseModel):
    token: str = Field(description="Bearer token; send as `Authorization: Bearer <token>`")
    session_id: str
    expires_at: int = Field(description="Absolute end, epoch seconds")
    idle_expires_at: int = Field(description="Ends earlier when idle this long, epoch seconds")
    user: UserOut


class LogoutOut(BaseModel):
    ended: bool = True


class ActivateRequest(BaseModel):
    token: str = Field(min_length=10, max_length=200)
    password: str = Field(min_length=1, max_length=1024)
